import { Body, Controller, forwardRef, Get, Inject, Param, Patch, Post } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { Endpoint } from '../common/http/endpoint.decorator';
import { JsonApiQuery, UuidPipe } from '../common/http/request-params';
import { IncludedSet, renderDocument } from '../common/jsonapi/document';
import { listMeta } from '../common/jsonapi/paging';
import { ParsedQuery } from '../common/jsonapi/query-spec';
import { parseResourceBody } from '../common/jsonapi/request-body';
import { ProviderGroupsService } from '../rbac/provider-groups.service';
import { providerGroupResource } from '../rbac/provider-group.resource';
import { PROVIDER_DETAIL, PROVIDER_LIST } from './provider-query-specs';
import { CreateProviderAttributes, UpdateProviderAttributes } from './provider.dto';
import { ProviderRow, providerResource } from './provider.resource';
import { ProvidersService } from './providers.service';

/** Reading needs no permission: what a caller sees is limited by their role's visibility instead. */
@ApiTags('Provider')
@Controller('providers')
export class ProvidersController {
  constructor(
    private readonly providers: ProvidersService,
    @Inject(forwardRef(() => ProviderGroupsService)) private readonly groups: ProviderGroupsService,
  ) {}

  @Get()
  @Endpoint({ summary: 'List the providers you can see' })
  async list(@JsonApiQuery(PROVIDER_LIST) query: ParsedQuery) {
    const { rows, count } = await this.providers.list(query, PROVIDER_LIST);
    return renderDocument(providerResource, rows, { fields: query.fields, meta: listMeta(query.page, count), included: await this.included(rows, query) });
  }

  @Post()
  @Endpoint({ summary: 'Add a provider', permissions: ['manage_providers'], status: 201 })
  async create(@Body() body: unknown) {
    const { attributes } = await parseResourceBody(body, { type: 'providers', attributes: CreateProviderAttributes });
    return renderDocument(providerResource, await this.providers.create(attributes));
  }

  @Get(':id')
  @Endpoint({ summary: 'A provider you can see' })
  async get(@Param('id', UuidPipe) id: string, @JsonApiQuery(PROVIDER_DETAIL) query: ParsedQuery) {
    const provider = await this.providers.getVisibleProvider(id);
    return renderDocument(providerResource, provider, { fields: query.fields, included: await this.included([provider], query) });
  }

  @Patch(':id')
  @Endpoint({ summary: 'Change a provider’s alias or UID', permissions: ['manage_providers'] })
  async update(@Param('id', UuidPipe) id: string, @Body() body: unknown) {
    const { attributes } = await parseResourceBody(body, { type: 'providers', attributes: UpdateProviderAttributes, id });
    return renderDocument(providerResource, await this.providers.update(id, attributes));
  }

  private async included(rows: readonly ProviderRow[], query: ParsedQuery): Promise<IncludedSet[]> {
    if (!query.include.includes('provider_groups')) return [];
    const ids = [...new Set(rows.flatMap((row) => row.provider_group_ids ?? []))];
    return [{ definition: providerGroupResource, rows: await this.groups.findVisible(ids) }];
  }
}
