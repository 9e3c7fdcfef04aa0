import { Controller, Delete, Get, Param, Patch, Post, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { ApiTags } from '@nestjs/swagger';
import { Endpoint } from '../common/http/endpoint.decorator';
import { JsonApiQuery, UuidPipe } from '../common/http/request-params';
import { renderDocument } from '../common/jsonapi/document';
import { listMeta } from '../common/jsonapi/paging';
import { DATE_FILTER, ParsedQuery, QuerySpec } from '../common/jsonapi/query-spec';
import { ParsedResourceBody } from '../common/jsonapi/request-body';
import { ResourceBody } from '../common/jsonapi/resource-body.decorator';
import { MEMBERSHIP_LIST } from './membership-query';
import { TenantAttributes } from './tenant.dto';
import { membershipResource, tenantResource } from './tenant.resource';
import { TenantsService } from './tenants.service';
import { taskLocation } from '../tasks/task.resource';
import { TasksService } from '../tasks/tasks.service';

const TENANT_LIST: QuerySpec = {
  filters: {
    name: { type: 'string', operators: ['eq', 'icontains'] },
    inserted_at: DATE_FILTER,
    updated_at: DATE_FILTER,
    search: { type: 'string', operators: ['eq'] },
  },
  sorts: ['name', 'inserted_at', 'updated_at'],
  defaultSort: '-inserted_at',
  fields: { tenants: ['name', 'inserted_at', 'updated_at', 'memberships'] },
};
const TENANT_DETAIL: QuerySpec = { fields: TENANT_LIST.fields };

@ApiTags('Tenant')
@Controller('tenants')
export class TenantsController {
  constructor(
    private readonly tenants: TenantsService,
    private readonly tasks: TasksService,
  ) {}

  @Get()
  @Endpoint({ summary: 'List the tenants you belong to', resource: tenantResource, list: true })
  async list(@JsonApiQuery(TENANT_LIST) query: ParsedQuery) {
    const { rows, count } = await this.tenants.listMine(query, TENANT_LIST);
    return renderDocument(tenantResource, rows, { fields: query.fields, meta: listMeta(query.page, count) });
  }

  @Post()
  @Endpoint({ summary: 'Create a tenant owned by you', status: 201, resource: tenantResource })
  async create(@ResourceBody({ type: 'tenants', attributes: TenantAttributes }) { attributes }: ParsedResourceBody<TenantAttributes>) {
    return renderDocument(tenantResource, await this.tenants.create(attributes.name));
  }

  @Get(':id')
  @Endpoint({ summary: 'A tenant you belong to', resource: tenantResource })
  async get(@Param('id', UuidPipe) id: string, @JsonApiQuery(TENANT_DETAIL) query: ParsedQuery) {
    return renderDocument(tenantResource, await this.tenants.getMine(id), { fields: query.fields });
  }

  @Patch(':id')
  @Endpoint({ summary: 'Rename the current tenant', permissions: ['manage_account'], resource: tenantResource })
  async update(@Param('id', UuidPipe) id: string, @ResourceBody({ type: 'tenants', attributes: TenantAttributes, idFromParam: 'id' }) { attributes }: ParsedResourceBody<TenantAttributes>) {
    return renderDocument(tenantResource, await this.tenants.update(id, attributes.name));
  }

  /**
   * Soft-deleted at once (no token for it works any more); a `tenant-deletion`
   * task removes its data. 204 as Prowler answers; Content-Location still
   * names the task, for a client that wants to follow it.
   */
  @Delete(':id')
  @Endpoint({ summary: 'Delete the current tenant (owners only)', ownerOnly: true, status: 204 })
  async remove(@Param('id', UuidPipe) id: string, @Res({ passthrough: true }) reply: FastifyReply): Promise<void> {
    await this.tenants.softDelete(id);
    const task = await this.tasks.enqueue({ name: 'tenant-deletion', args: {} });
    reply.header('content-location', taskLocation(task.id));
  }

  @Get(':id/memberships')
  @Endpoint({ summary: 'Memberships of the current tenant', resource: membershipResource, list: true })
  async memberships(@Param('id', UuidPipe) id: string, @JsonApiQuery(MEMBERSHIP_LIST) query: ParsedQuery) {
    const { rows, count } = await this.tenants.memberships(id, query, MEMBERSHIP_LIST);
    return renderDocument(membershipResource, rows, { fields: query.fields, meta: listMeta(query.page, count) });
  }

  @Delete(':id/memberships/:membershipId')
  @Endpoint({ summary: 'Remove a member from the current tenant; their sessions end at once', permissions: ['manage_users'], status: 204 })
  async removeMembership(@Param('id', UuidPipe) id: string, @Param('membershipId', UuidPipe) membershipId: string): Promise<void> {
    await this.tenants.removeMembership(id, membershipId);
  }
}
