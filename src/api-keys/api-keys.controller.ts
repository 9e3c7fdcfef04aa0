import { Controller, Delete, Get, Param, Patch, Post } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { findUser } from '../auth/users.repository';
import { userResource } from '../auth/user.resource';
import { Endpoint } from '../common/http/endpoint.decorator';
import { JsonApiQuery, UuidPipe } from '../common/http/request-params';
import { IncludedSet, renderDocument } from '../common/jsonapi/document';
import { listMeta } from '../common/jsonapi/paging';
import { ParsedQuery } from '../common/jsonapi/query-spec';
import { ParsedResourceBody } from '../common/jsonapi/request-body';
import { ResourceBody } from '../common/jsonapi/resource-body.decorator';
import { ApiKeyCreateAttributes, ApiKeyUpdateAttributes } from './api-key.dto';
import { API_KEY_DETAIL, API_KEY_LIST, apiKeyResource, ApiKeyRow } from './api-key.resource';
import { ApiKeysService } from './api-keys.service';

/** Prowler guards its API keys with manage_account. */
@ApiTags('API Keys')
@Controller('api-keys')
export class ApiKeysController {
  constructor(private readonly apiKeys: ApiKeysService) {}

  @Get()
  @Endpoint({ summary: 'List the tenant’s API keys', permissions: ['manage_account'], resource: apiKeyResource, list: true })
  async list(@JsonApiQuery(API_KEY_LIST) query: ParsedQuery) {
    const { rows, count } = await this.apiKeys.list(query);
    return renderDocument(apiKeyResource, rows, { fields: query.fields, meta: listMeta(query.page, count), included: await included(rows, query) });
  }

  @Post()
  @Endpoint({ summary: 'Create an API key acting as you in this tenant; the key is in this answer only', status: 201, permissions: ['manage_account'], resource: apiKeyResource })
  async create(@ResourceBody({ type: 'api-keys', attributes: ApiKeyCreateAttributes }) { attributes }: ParsedResourceBody<ApiKeyCreateAttributes>) {
    return renderDocument(apiKeyResource, await this.apiKeys.create(attributes));
  }

  @Get(':id')
  @Endpoint({ summary: 'One API key', permissions: ['manage_account'], resource: apiKeyResource })
  async get(@Param('id', UuidPipe) id: string, @JsonApiQuery(API_KEY_DETAIL) query: ParsedQuery) {
    const key = await this.apiKeys.get(id);
    return renderDocument(apiKeyResource, key, { fields: query.fields, included: await included([key], query) });
  }

  @Patch(':id')
  @Endpoint({ summary: 'Rename an API key', permissions: ['manage_account'], resource: apiKeyResource })
  async update(@Param('id', UuidPipe) id: string, @ResourceBody({ type: 'api-keys', attributes: ApiKeyUpdateAttributes, idFromParam: 'id' }) { attributes }: ParsedResourceBody<ApiKeyUpdateAttributes>) {
    return renderDocument(apiKeyResource, await this.apiKeys.rename(id, attributes));
  }

  @Delete(':id/revoke')
  @Endpoint({ summary: 'Revoke an API key (irreversible): it stops working on the next request', permissions: ['manage_account'], resource: apiKeyResource })
  async revoke(@Param('id', UuidPipe) id: string) {
    return renderDocument(apiKeyResource, await this.apiKeys.revoke(id));
  }
}

/** `include=entity`: the users the keys act as (members of this tenant, so visible here). */
async function included(keys: readonly ApiKeyRow[], query: ParsedQuery): Promise<IncludedSet[]> {
  if (!query.include.includes('entity')) return [];
  const users = [];
  for (const userId of new Set(keys.map((k) => k.user_id))) {
    const user = await findUser(userId);
    if (user) users.push(user);
  }
  return [{ definition: userResource, rows: users }];
}
