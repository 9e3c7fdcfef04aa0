import { Controller, Delete, Get, Param, Patch, Post } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { Endpoint } from '../common/http/endpoint.decorator';
import { JsonApiQuery, UuidPipe } from '../common/http/request-params';
import { renderDocument } from '../common/jsonapi/document';
import { listMeta } from '../common/jsonapi/paging';
import { ParsedQuery } from '../common/jsonapi/query-spec';
import { ParsedResourceBody } from '../common/jsonapi/request-body';
import { IdentifiersBody } from '../common/jsonapi/identifiers-body.decorator';
import { ResourceBody } from '../common/jsonapi/resource-body.decorator';
import { PROVIDER_GROUP_DETAIL, PROVIDER_GROUP_LIST } from './access-query-specs';
import { CreateProviderGroupAttributes, UpdateProviderGroupAttributes } from './provider-group.dto';
import { providerGroupResource } from './provider-group.resource';
import { ProviderGroupsService } from './provider-groups.service';
import { inRelationshipBody, relatedIds } from './relationship-ids';

const GROUP_RELATIONSHIPS = {
  providers: { type: 'providers', many: true },
  roles: { type: 'roles', many: true },
};

/**
 * Groups are provider administration, so every endpoint needs manage_providers;
 * a limited role also sees only its own groups. Linking roles is role
 * administration and needs manage_users too (ProviderGroupsService).
 */
@ApiTags('Provider Group')
@Controller('provider-groups')
export class ProviderGroupsController {
  constructor(private readonly groups: ProviderGroupsService) {}

  @Get()
  @Endpoint({ summary: 'List the provider groups you can see', permissions: ['manage_providers'], resource: providerGroupResource, list: true })
  async list(@JsonApiQuery(PROVIDER_GROUP_LIST) query: ParsedQuery) {
    const { rows, count } = await this.groups.list(query, PROVIDER_GROUP_LIST);
    return renderDocument(providerGroupResource, rows, { fields: query.fields, meta: listMeta(query.page, count) });
  }

  @Post()
  @Endpoint({ summary: 'Create a provider group (linking roles also needs manage_users)', permissions: ['manage_providers'], status: 201, resource: providerGroupResource })
  async create(
    @ResourceBody({
      type: 'provider-groups',
      attributes: CreateProviderGroupAttributes,
      relationships: GROUP_RELATIONSHIPS,
    })
    { attributes, relationships }: ParsedResourceBody<CreateProviderGroupAttributes>,
  ) {
    const group = await this.groups.create(attributes, {
      providerIds: relatedIds(relationships, 'providers'),
      roleIds: relatedIds(relationships, 'roles'),
    });
    return renderDocument(providerGroupResource, group);
  }

  @Get(':id')
  @Endpoint({ summary: 'A provider group you can see', permissions: ['manage_providers'], resource: providerGroupResource })
  async get(@Param('id', UuidPipe) id: string, @JsonApiQuery(PROVIDER_GROUP_DETAIL) query: ParsedQuery) {
    return renderDocument(providerGroupResource, await this.groups.get(id), { fields: query.fields });
  }

  @Patch(':id')
  @Endpoint({ summary: 'Rename a provider group or replace its providers or roles (roles also need manage_users)', permissions: ['manage_providers'], resource: providerGroupResource })
  async update(
    @Param('id', UuidPipe) id: string,
    @ResourceBody({
      type: 'provider-groups',
      attributes: UpdateProviderGroupAttributes,
      idFromParam: 'id',
      relationships: GROUP_RELATIONSHIPS,
    })
    { attributes, relationships }: ParsedResourceBody<UpdateProviderGroupAttributes>,
  ) {
    const group = await this.groups.update(id, attributes, {
      providerIds: relatedIds(relationships, 'providers'),
      roleIds: relatedIds(relationships, 'roles'),
    });
    return renderDocument(providerGroupResource, group);
  }

  @Delete(':id')
  @Endpoint({ summary: 'Delete a provider group', permissions: ['manage_providers'], status: 204 })
  async remove(@Param('id', UuidPipe) id: string): Promise<void> {
    await this.groups.remove(id);
  }

  @Post(':id/relationships/providers')
  @Endpoint({ summary: 'Add providers to a group', permissions: ['manage_providers'], status: 204 })
  async addProviders(@Param('id', UuidPipe) id: string, @IdentifiersBody({ type: 'providers' }) ids: string[]): Promise<void> {
    await this.groups.addProviders(id, ids, inRelationshipBody);
  }

  @Patch(':id/relationships/providers')
  @Endpoint({ summary: 'Replace the providers of a group', permissions: ['manage_providers'], status: 204 })
  async replaceProviders(@Param('id', UuidPipe) id: string, @IdentifiersBody({ type: 'providers' }) ids: string[]): Promise<void> {
    await this.groups.replaceProviders(id, ids, inRelationshipBody);
  }

  @Delete(':id/relationships/providers')
  @Endpoint({ summary: 'Remove providers from a group (all of them when there is no body)', permissions: ['manage_providers'], status: 204 })
  async removeProviders(@Param('id', UuidPipe) id: string, @IdentifiersBody({ type: 'providers', optional: true }) ids: string[] | null): Promise<void> {
    await this.groups.removeProviders(id, ids);
  }
}
