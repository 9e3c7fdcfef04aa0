import { Controller, Get, Param, Patch, Post } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { Endpoint } from '../common/http/endpoint.decorator';
import { JsonApiQuery, UuidPipe } from '../common/http/request-params';
import { renderDocument } from '../common/jsonapi/document';
import { IncludeGraph } from '../common/jsonapi/include-graph';
import { listMeta } from '../common/jsonapi/paging';
import { ParsedQuery } from '../common/jsonapi/query-spec';
import { ParsedResourceBody } from '../common/jsonapi/request-body';
import { ResourceBody } from '../common/jsonapi/resource-body.decorator';
import { PROVIDER_DETAIL, PROVIDER_LIST } from './provider-query-specs';
import { CreateProviderAttributes, UpdateProviderAttributes } from './provider.dto';
import { providerResource } from './provider.resource';
import { ProvidersService } from './providers.service';

/** Reading needs no permission: what a caller sees is limited by their role's visibility instead. */
@ApiTags('Provider')
@Controller('providers')
export class ProvidersController {
  constructor(
    private readonly providers: ProvidersService,
    private readonly graph: IncludeGraph,
  ) {}

  @Get()
  @Endpoint({ summary: 'List the providers you can see', resource: providerResource, list: true })
  async list(@JsonApiQuery(PROVIDER_LIST) query: ParsedQuery) {
    const { rows, count } = await this.providers.list(query, PROVIDER_LIST);
    return renderDocument(providerResource, rows, { fields: query.fields, meta: listMeta(query.page, count), included: await this.graph.included(providerResource, rows, query.include) });
  }

  @Post()
  @Endpoint({ summary: 'Add a provider', permissions: ['manage_providers'], status: 201, resource: providerResource })
  async create(@ResourceBody({ type: 'providers', attributes: CreateProviderAttributes }) { attributes }: ParsedResourceBody<CreateProviderAttributes>) {
    return renderDocument(providerResource, await this.providers.create(attributes));
  }

  @Get(':id')
  @Endpoint({ summary: 'A provider you can see', resource: providerResource })
  async get(@Param('id', UuidPipe) id: string, @JsonApiQuery(PROVIDER_DETAIL) query: ParsedQuery) {
    const provider = await this.providers.getVisibleProvider(id);
    return renderDocument(providerResource, provider, { fields: query.fields, included: await this.graph.included(providerResource, [provider], query.include) });
  }

  @Patch(':id')
  @Endpoint({ summary: 'Change a provider’s alias or UID', permissions: ['manage_providers'], resource: providerResource })
  async update(@Param('id', UuidPipe) id: string, @ResourceBody({ type: 'providers', attributes: UpdateProviderAttributes, idFromParam: 'id' }) { attributes }: ParsedResourceBody<UpdateProviderAttributes>) {
    return renderDocument(providerResource, await this.providers.update(id, attributes));
  }

}
