import { Controller, Delete, Get, Param, Patch, Post } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { Endpoint } from '../common/http/endpoint.decorator';
import { JsonApiQuery, UuidPipe } from '../common/http/request-params';
import { renderDocument } from '../common/jsonapi/document';
import { listMeta } from '../common/jsonapi/paging';
import { ParsedQuery } from '../common/jsonapi/query-spec';
import { ParsedResourceBody } from '../common/jsonapi/request-body';
import { ResourceBody } from '../common/jsonapi/resource-body.decorator';
import { ProcessorCreateAttributes, ProcessorUpdateAttributes } from './processor.dto';
import { PROCESSOR_DETAIL, PROCESSOR_LIST, processorResource } from './processor.resource';
import { ProcessorsService } from './processors.service';

/** Prowler guards processors with manage_account. */
@ApiTags('Processor')
@Controller('processors')
export class ProcessorsController {
  constructor(private readonly processors: ProcessorsService) {}

  @Get()
  @Endpoint({ summary: 'The tenant’s processors (at most one Mutelist)', permissions: ['manage_account'], resource: processorResource, list: true })
  async list(@JsonApiQuery(PROCESSOR_LIST) query: ParsedQuery) {
    const { rows, count } = await this.processors.list(query);
    return renderDocument(processorResource, rows, { fields: query.fields, meta: listMeta(query.page, count) });
  }

  @Post()
  @Endpoint({
    summary: 'Add the tenant’s Mutelist (YAML or JSON, checked now); the latest findings are re-muted in a backfill task',
    status: 201,
    permissions: ['manage_account'],
    resource: processorResource,
  })
  async create(@ResourceBody({ type: 'processors', attributes: ProcessorCreateAttributes }) { attributes }: ParsedResourceBody<ProcessorCreateAttributes>) {
    return renderDocument(processorResource, await this.processors.create(attributes));
  }

  @Get(':id')
  @Endpoint({ summary: 'One processor', permissions: ['manage_account'], resource: processorResource })
  async get(@Param('id', UuidPipe) id: string, @JsonApiQuery(PROCESSOR_DETAIL) query: ParsedQuery) {
    return renderDocument(processorResource, await this.processors.get(id), { fields: query.fields });
  }

  @Patch(':id')
  @Endpoint({
    summary: 'Replace the Mutelist; the latest findings are re-muted in a backfill task',
    permissions: ['manage_account'],
    resource: processorResource,
  })
  async update(@Param('id', UuidPipe) id: string, @ResourceBody({ type: 'processors', attributes: ProcessorUpdateAttributes, idFromParam: 'id' }) { attributes }: ParsedResourceBody<ProcessorUpdateAttributes>) {
    return renderDocument(processorResource, await this.processors.update(id, attributes));
  }

  @Delete(':id')
  @Endpoint({ summary: 'Remove the Mutelist; what it muted in the latest findings is unmuted in a backfill task', status: 204, permissions: ['manage_account'] })
  async remove(@Param('id', UuidPipe) id: string): Promise<void> {
    await this.processors.remove(id);
  }
}
