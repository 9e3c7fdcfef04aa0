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
import { ROLE_DETAIL, ROLE_LIST } from './access-query-specs';
import { inRelationshipBody, relatedIds } from './relationship-ids';
import { CreateRoleAttributes, UpdateRoleAttributes } from './role.dto';
import { roleResource } from './role.resource';
import { RolesService } from './roles.service';

const ROLE_RELATIONSHIPS = {
  provider_groups: { type: 'provider-groups', many: true },
  users: { type: 'users', many: true },
};

/** Roles decide what every user may do, so every role endpoint, reads included, needs manage_users. */
@ApiTags('Role')
@Controller('roles')
export class RolesController {
  constructor(private readonly roles: RolesService) {}

  @Get()
  @Endpoint({ summary: 'List the roles of the tenant', permissions: ['manage_users'], resource: roleResource, list: true })
  async list(@JsonApiQuery(ROLE_LIST) query: ParsedQuery) {
    const { rows, count } = await this.roles.list(query, ROLE_LIST);
    return renderDocument(roleResource, rows, { fields: query.fields, meta: listMeta(query.page, count) });
  }

  @Post()
  @Endpoint({ summary: 'Create a role', permissions: ['manage_users'], status: 201, resource: roleResource })
  async create(@ResourceBody({ type: 'roles', attributes: CreateRoleAttributes, relationships: ROLE_RELATIONSHIPS }) { attributes, relationships }: ParsedResourceBody<CreateRoleAttributes>) {
    const role = await this.roles.create(attributes, {
      providerGroupIds: relatedIds(relationships, 'provider_groups'),
      userIds: relatedIds(relationships, 'users'),
    });
    return renderDocument(roleResource, role);
  }

  @Get(':id')
  @Endpoint({ summary: 'A role', permissions: ['manage_users'], resource: roleResource })
  async get(@Param('id', UuidPipe) id: string, @JsonApiQuery(ROLE_DETAIL) query: ParsedQuery) {
    return renderDocument(roleResource, await this.roles.get(id), { fields: query.fields });
  }

  @Patch(':id')
  @Endpoint({ summary: 'Change a role’s name, permissions, provider groups or users', permissions: ['manage_users'], resource: roleResource })
  async update(@Param('id', UuidPipe) id: string, @ResourceBody({ type: 'roles', attributes: UpdateRoleAttributes, idFromParam: 'id', relationships: ROLE_RELATIONSHIPS }) { attributes, relationships }: ParsedResourceBody<UpdateRoleAttributes>) {
    const role = await this.roles.update(id, attributes, {
      providerGroupIds: relatedIds(relationships, 'provider_groups'),
      userIds: relatedIds(relationships, 'users'),
    });
    return renderDocument(roleResource, role);
  }

  @Delete(':id')
  @Endpoint({ summary: 'Delete a role', permissions: ['manage_users'], status: 204 })
  async remove(@Param('id', UuidPipe) id: string): Promise<void> {
    await this.roles.remove(id);
  }

  @Post(':id/relationships/provider_groups')
  @Endpoint({ summary: 'Link provider groups to a role', permissions: ['manage_users'], status: 204 })
  async addProviderGroups(@Param('id', UuidPipe) id: string, @IdentifiersBody({ type: 'provider-groups' }) ids: string[]): Promise<void> {
    await this.roles.addProviderGroups(id, ids, inRelationshipBody);
  }

  @Patch(':id/relationships/provider_groups')
  @Endpoint({ summary: 'Replace the provider groups of a role', permissions: ['manage_users'], status: 204 })
  async replaceProviderGroups(@Param('id', UuidPipe) id: string, @IdentifiersBody({ type: 'provider-groups' }) ids: string[]): Promise<void> {
    await this.roles.replaceProviderGroups(id, ids, inRelationshipBody);
  }

  @Delete(':id/relationships/provider_groups')
  @Endpoint({ summary: 'Unlink provider groups from a role (all of them when there is no body)', permissions: ['manage_users'], status: 204 })
  async removeProviderGroups(@Param('id', UuidPipe) id: string, @IdentifiersBody({ type: 'provider-groups', optional: true }) ids: string[] | null): Promise<void> {
    await this.roles.removeProviderGroups(id, ids);
  }
}
