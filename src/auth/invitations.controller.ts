import { Controller, Delete, Get, Param, Patch, Post, Req } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { Endpoint } from '../common/http/endpoint.decorator';
import { JsonApiQuery, UuidPipe } from '../common/http/request-params';
import { renderDocument } from '../common/jsonapi/document';
import { listMeta } from '../common/jsonapi/paging';
import { DATE_FILTER, ParsedQuery, QuerySpec } from '../common/jsonapi/query-spec';
import { ParsedResourceBody } from '../common/jsonapi/request-body';
import { ResourceBody } from '../common/jsonapi/resource-body.decorator';
import { OutsideTenantTransaction } from '../database/tenant.interceptor';
import { relatedIds } from '../rbac/relationship-ids';
import { AuthenticatedUser } from './authenticated-user';
import { AcceptInvitationAttributes, CreateInvitationAttributes, UpdateInvitationAttributes } from './invitation.dto';
import { INVITATION_FIELDS, invitationResource } from './invitation.resource';
import { InvitationsService } from './invitations.service';
import { membershipResource } from './tenant.resource';

const timestamp = DATE_FILTER;

const INVITATION_LIST: QuerySpec = {
  filters: {
    email: { type: 'string', operators: ['eq', 'icontains'] },
    state: { type: 'enum', operators: ['eq', 'in'], values: ['pending', 'accepted', 'expired', 'revoked'] },
    inviter: { type: 'uuid', operators: ['eq'] },
    expires_at: timestamp,
    inserted_at: timestamp,
    updated_at: timestamp,
    search: { type: 'string', operators: ['eq'] },
  },
  sorts: ['inserted_at', 'updated_at', 'expires_at', 'state', 'inviter'],
  defaultSort: '-inserted_at',
  // `url` is Prowler's self link, which a sparse fieldset may name.
  fields: { invitations: [...INVITATION_FIELDS, 'url'] },
};
const INVITATION_DETAIL: QuerySpec = { fields: INVITATION_LIST.fields };
const ROLES_RELATIONSHIP = { roles: { type: 'roles', many: true } };

/**
 * Its own controller, registered before TenantsController: the literal
 * `tenants/invitations` must never be read as a tenant id.
 */
@ApiTags('Invitation')
@Controller()
export class InvitationsController {
  constructor(private readonly invitations: InvitationsService) {}

  @Get('tenants/invitations')
  @Endpoint({ summary: 'List the invitations of the tenant', permissions: ['manage_users'], resource: invitationResource, list: true })
  async list(@JsonApiQuery(INVITATION_LIST) query: ParsedQuery) {
    const { rows, count } = await this.invitations.list(query, INVITATION_LIST);
    return renderDocument(invitationResource, rows, { fields: query.fields, meta: listMeta(query.page, count) });
  }

  @Post('tenants/invitations')
  @Endpoint({ summary: 'Invite someone to the tenant (the answer holds the token, once)', permissions: ['manage_users'], status: 201, resource: invitationResource })
  async create(
    @ResourceBody({
      type: 'invitations',
      attributes: CreateInvitationAttributes,
      relationships: { roles: { ...ROLES_RELATIONSHIP.roles, required: true } },
    })
    { attributes, relationships }: ParsedResourceBody<CreateInvitationAttributes>,
  ) {
    // Present: @ResourceBody refuses a create body without the required `roles`.
    const roles = relatedIds(relationships, 'roles')!;
    return renderDocument(invitationResource, await this.invitations.create(attributes, roles));
  }

  @Get('tenants/invitations/:id')
  @Endpoint({ summary: 'An invitation of the tenant', permissions: ['manage_users'], resource: invitationResource })
  async get(@Param('id', UuidPipe) id: string, @JsonApiQuery(INVITATION_DETAIL) query: ParsedQuery) {
    return renderDocument(invitationResource, await this.invitations.get(id), { fields: query.fields });
  }

  @Patch('tenants/invitations/:id')
  @Endpoint({ summary: 'Change a pending invitation’s email, expiry or roles', permissions: ['manage_users'], resource: invitationResource })
  async update(
    @Param('id', UuidPipe) id: string,
    @ResourceBody({
      type: 'invitations',
      attributes: UpdateInvitationAttributes,
      idFromParam: 'id',
      relationships: ROLES_RELATIONSHIP,
    })
    { attributes, relationships }: ParsedResourceBody<UpdateInvitationAttributes>,
  ) {
    return renderDocument(invitationResource, await this.invitations.update(id, attributes, relatedIds(relationships, 'roles')));
  }

  @Delete('tenants/invitations/:id')
  @Endpoint({ summary: 'Revoke a pending invitation', permissions: ['manage_users'], status: 204 })
  async revoke(@Param('id', UuidPipe) id: string): Promise<void> {
    await this.invitations.revoke(id);
  }

  @Post('invitations/accept')
  @Endpoint({ summary: 'Accept an invitation addressed to your email: you join its tenant with its roles', status: 201, resource: membershipResource })
  @OutsideTenantTransaction()
  async accept(@ResourceBody({ type: 'invitations', attributes: AcceptInvitationAttributes }) { attributes }: ParsedResourceBody<AcceptInvitationAttributes>, @Req() request: FastifyRequest & { user: AuthenticatedUser }) {
    return renderDocument(membershipResource, await this.invitations.accept(request.user.userId, attributes.invitation_token));
  }
}
