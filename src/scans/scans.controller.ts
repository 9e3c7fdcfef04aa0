import { Controller, Get, Param, Patch, Post } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { ApiError } from '../common/errors/api-error';
import { Endpoint } from '../common/http/endpoint.decorator';
import { JsonApiQuery, UuidPipe } from '../common/http/request-params';
import { renderDocument } from '../common/jsonapi/document';
import { IncludeGraph } from '../common/jsonapi/include-graph';
import { listMeta } from '../common/jsonapi/paging';
import { ParsedQuery } from '../common/jsonapi/query-spec';
import { ParsedResourceBody, ResourceIdentifier } from '../common/jsonapi/request-body';
import { ResourceBody } from '../common/jsonapi/resource-body.decorator';
import { TaskAccepted } from '../tasks/task-accepted.decorator';
import { CreateScanAttributes, UpdateScanAttributes } from './scan.dto';
import { SCAN_DETAIL, SCAN_LIST } from './scan-query-specs';
import { scanResource } from './scan.resource';
import { ScansService } from './scans.service';

/** Reading needs no permission (visibility limits what a caller sees); starting and renaming need manage_scans. */
@ApiTags('Scan')
@Controller('scans')
export class ScansController {
  constructor(
    private readonly scans: ScansService,
    private readonly graph: IncludeGraph,
  ) {}

  @Get()
  @Endpoint({ summary: 'List the scans you can see', resource: scanResource, list: true })
  async list(@JsonApiQuery(SCAN_LIST) query: ParsedQuery) {
    const { rows, count } = await this.scans.list(query);
    return renderDocument(scanResource, rows, { fields: query.fields, meta: listMeta(query.page, count), included: await this.graph.included(scanResource, rows, query.include) });
  }

  @Post()
  @TaskAccepted({ summary: 'Start a scan of a provider; it waits while another scan of the provider runs', permissions: ['manage_scans'] })
  async create(
    @ResourceBody({
      type: 'scans',
      attributes: CreateScanAttributes,
      relationships: { provider: { type: 'providers', many: false, required: true } },
    })
    { attributes, relationships }: ParsedResourceBody<CreateScanAttributes>,
  ) {
    const provider = relationships.provider as ResourceIdentifier | null;
    if (!provider) throw ApiError.badRequest('required', 'Relationship provider is required.', { pointer: '/data/relationships/provider' });
    return this.scans.start(provider.id, attributes.name ?? null);
  }

  @Get(':id')
  @Endpoint({ summary: 'A scan you can see', resource: scanResource })
  async get(@Param('id', UuidPipe) id: string, @JsonApiQuery(SCAN_DETAIL) query: ParsedQuery) {
    const scan = await this.scans.get(id);
    return renderDocument(scanResource, scan, { fields: query.fields, included: await this.graph.included(scanResource, [scan], query.include) });
  }

  @Patch(':id')
  @Endpoint({ summary: 'Rename a scan', permissions: ['manage_scans'], resource: scanResource })
  async update(@Param('id', UuidPipe) id: string, @ResourceBody({ type: 'scans', attributes: UpdateScanAttributes, idFromParam: 'id' }) { attributes }: ParsedResourceBody<UpdateScanAttributes>) {
    return renderDocument(scanResource, await this.scans.rename(id, attributes.name));
  }

}
