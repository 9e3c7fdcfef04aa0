import { Controller, Delete, Get, Param, Patch, Post } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { ApiError } from '../common/errors/api-error';
import { Endpoint } from '../common/http/endpoint.decorator';
import { JsonApiQuery, UuidPipe } from '../common/http/request-params';
import { renderDocument } from '../common/jsonapi/document';
import { listMeta } from '../common/jsonapi/paging';
import { ParsedQuery } from '../common/jsonapi/query-spec';
import { ParsedResourceBody } from '../common/jsonapi/request-body';
import { ResourceBody } from '../common/jsonapi/resource-body.decorator';
import { SECRET_DETAIL, SECRET_LIST } from './provider-query-specs';
import { CreateProviderSecretAttributes, UpdateProviderSecretAttributes } from './provider-secret.dto';
import { providerSecretResource } from './provider-secret.resource';
import { ProviderSecretsService } from './provider-secrets.service';

/**
 * `/providers/secrets…` share their first segment with `/providers/:id`; the
 * router prefers the literal `secrets` segment, and ProvidersModule registers
 * this controller first as well. Even the metadata is credentials management,
 * so reading needs manage_providers too.
 */
@ApiTags('Provider')
@Controller('providers/secrets')
export class ProviderSecretsController {
  constructor(private readonly secrets: ProviderSecretsService) {}

  @Get()
  @Endpoint({ summary: 'List provider secrets (metadata only)', permissions: ['manage_providers'], resource: providerSecretResource, list: true })
  async list(@JsonApiQuery(SECRET_LIST) query: ParsedQuery) {
    const { rows, count } = await this.secrets.list(query, SECRET_LIST);
    return renderDocument(providerSecretResource, rows, { fields: query.fields, meta: listMeta(query.page, count) });
  }

  @Post()
  @Endpoint({ summary: 'Store a provider’s secret, encrypted', permissions: ['manage_providers'], status: 201, resource: providerSecretResource })
  async create(
    @ResourceBody({
      type: 'provider-secrets',
      attributes: CreateProviderSecretAttributes,
      relationships: { provider: { type: 'providers', many: false, required: true } },
    })
    { attributes, relationships }: ParsedResourceBody<CreateProviderSecretAttributes>,
  ) {
    const provider = relationships.provider as { id: string } | null;
    if (!provider) throw ApiError.badRequest('required', "Relationship 'provider' is required.", { pointer: '/data/relationships/provider/data' });
    return renderDocument(providerSecretResource, await this.secrets.create(attributes, provider.id));
  }

  @Get(':id')
  @Endpoint({ summary: 'A provider secret (metadata only)', permissions: ['manage_providers'], resource: providerSecretResource })
  async get(@Param('id', UuidPipe) id: string, @JsonApiQuery(SECRET_DETAIL) query: ParsedQuery) {
    return renderDocument(providerSecretResource, await this.secrets.get(id), { fields: query.fields });
  }

  @Patch(':id')
  @Endpoint({ summary: 'Rename a secret or replace its content', permissions: ['manage_providers'], resource: providerSecretResource })
  async update(@Param('id', UuidPipe) id: string, @ResourceBody({ type: 'provider-secrets', attributes: UpdateProviderSecretAttributes, idFromParam: 'id' }) { attributes }: ParsedResourceBody<UpdateProviderSecretAttributes>) {
    return renderDocument(providerSecretResource, await this.secrets.update(id, attributes));
  }

  @Delete(':id')
  @Endpoint({ summary: 'Delete a provider secret', permissions: ['manage_providers'], status: 204 })
  async remove(@Param('id', UuidPipe) id: string): Promise<void> {
    await this.secrets.remove(id);
  }
}
