import { Controller, Delete, Get, Param, Patch, Post, UseGuards } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { Endpoint } from '../common/http/endpoint.decorator';
import { JsonApiQuery, UuidPipe } from '../common/http/request-params';
import { renderDocument } from '../common/jsonapi/document';
import { IncludeGraph } from '../common/jsonapi/include-graph';
import { listMeta } from '../common/jsonapi/paging';
import { DATE_FILTER, FilterSpec, ParsedQuery, QuerySpec } from '../common/jsonapi/query-spec';
import { MEMBERSHIP_FIELDS, MEMBERSHIP_LIST } from './membership-query';
import { ParsedResourceBody } from '../common/jsonapi/request-body';
import { IdentifiersBody } from '../common/jsonapi/identifiers-body.decorator';
import { ResourceBody } from '../common/jsonapi/resource-body.decorator';
import { inRelationshipBody } from '../rbac/relationship-ids';
import { ROLE_FIELDS } from '../rbac/role.resource';
import { RolesService } from '../rbac/roles.service';
import { SignUpThrottleGuard } from './sign-up-throttle.guard';
import { membershipResource } from './tenant.resource';
import { SignUpAttributes, UpdateUserAttributes } from './user.dto';
import { USER_FIELDS, userResource } from './user.resource';
import { UsersService } from './users.service';

const text: FilterSpec = { type: 'string', operators: ['eq', 'icontains'] };

const DETAIL_QUERY: QuerySpec = {
  includes: ['roles', 'memberships', 'memberships.tenant'],
  fields: { users: USER_FIELDS, roles: ROLE_FIELDS, memberships: MEMBERSHIP_FIELDS, tenants: ['name', 'inserted_at', 'updated_at', 'memberships'] },
};
const USER_LIST: QuerySpec = {
  ...DETAIL_QUERY,
  filters: {
    name: text,
    email: text,
    company_name: text,
    is_active: { type: 'boolean', operators: ['eq'] },
    date_joined: DATE_FILTER,
    search: { type: 'string', operators: ['eq'] },
  },
  sorts: ['name', 'email', 'company_name', 'date_joined', 'is_active'],
  defaultSort: 'date_joined',
};

const MEMBERSHIP_DETAIL: QuerySpec = { fields: MEMBERSHIP_LIST.fields };

@ApiTags('User')
@Controller('users')
export class UsersController {
  constructor(
    private readonly users: UsersService,
    private readonly roles: RolesService,
    private readonly graph: IncludeGraph,
  ) {}

  @Get()
  @Endpoint({ summary: 'List the users of the tenant', permissions: ['manage_users'], resource: userResource, list: true })
  async list(@JsonApiQuery(USER_LIST) query: ParsedQuery) {
    const { rows, count } = await this.users.list(query, USER_LIST);
    return renderDocument(userResource, rows, { fields: query.fields, meta: listMeta(query.page, count), included: await this.graph.included(userResource, rows, query.include) });
  }

  @Post()
  @Endpoint({ summary: 'Sign up: create a user with their own tenant (throttled per address)', public: true, status: 201, resource: userResource })
  @UseGuards(SignUpThrottleGuard)
  async signUp(@ResourceBody({ type: 'users', attributes: SignUpAttributes }) { attributes }: ParsedResourceBody<SignUpAttributes>) {
    return renderDocument(userResource, await this.users.signUp(attributes));
  }

  @Get('me')
  @Endpoint({ summary: 'The signed-in user', resource: userResource })
  async me(@JsonApiQuery(DETAIL_QUERY) query: ParsedQuery) {
    const user = await this.users.me();
    return renderDocument(userResource, user, { fields: query.fields, included: await this.graph.included(userResource, [user], query.include) });
  }

  @Get(':id')
  @Endpoint({ summary: 'A user of the current tenant (another user than yourself needs manage_users)', resource: userResource })
  async get(@Param('id', UuidPipe) id: string, @JsonApiQuery(DETAIL_QUERY) query: ParsedQuery) {
    const user = await this.users.get(id);
    return renderDocument(userResource, user, { fields: query.fields, included: await this.graph.included(userResource, [user], query.include) });
  }

  @Patch(':id')
  @Endpoint({ summary: 'Update your own user (a new password or email needs current_password; a new email applies once confirmed)', resource: userResource })
  async update(@Param('id', UuidPipe) id: string, @ResourceBody({ type: 'users', attributes: UpdateUserAttributes, idFromParam: 'id' }) { attributes }: ParsedResourceBody<UpdateUserAttributes>) {
    const { user, verificationSentTo } = await this.users.updateSelf(id, attributes);
    // The address changes only once the mailed proof is confirmed; meta says where it went.
    return renderDocument(userResource, user, verificationSentTo ? { meta: { email_verification_sent_to: verificationSentTo } } : {});
  }

  @Delete(':id')
  @Endpoint({ summary: 'Delete your own user (not while the only owner of a tenant)', permissions: ['manage_users'], status: 204 })
  async remove(@Param('id', UuidPipe) id: string): Promise<void> {
    await this.users.deleteSelf(id);
  }

  @Get(':id/memberships')
  @Endpoint({ summary: 'A user’s memberships: your own in every tenant, another user’s here (needs manage_users)', resource: membershipResource, list: true })
  async memberships(@Param('id', UuidPipe) id: string, @JsonApiQuery(MEMBERSHIP_LIST) query: ParsedQuery) {
    const { rows, count } = await this.users.memberships(id, query, MEMBERSHIP_LIST);
    return renderDocument(membershipResource, rows, { fields: query.fields, meta: listMeta(query.page, count) });
  }

  @Get(':id/memberships/:membershipId')
  @Endpoint({ summary: 'One of a user’s memberships, under the same rules as the list', resource: membershipResource })
  async membership(
    @Param('id', UuidPipe) id: string,
    @Param('membershipId', UuidPipe) membershipId: string,
    @JsonApiQuery(MEMBERSHIP_DETAIL) query: ParsedQuery,
  ) {
    return renderDocument(membershipResource, await this.users.membership(id, membershipId), { fields: query.fields });
  }

  @Post(':id/relationships/roles')
  @Endpoint({ summary: 'Give a user more roles (after the ones they hold)', permissions: ['manage_users'], status: 204 })
  async addRoles(@Param('id', UuidPipe) id: string, @IdentifiersBody({ type: 'roles' }) ids: string[]): Promise<void> {
    await this.roles.addUserRoles(id, ids, inRelationshipBody);
  }

  @Patch(':id/relationships/roles')
  @Endpoint({ summary: 'Replace a user’s roles', permissions: ['manage_users'], status: 204 })
  async replaceRoles(@Param('id', UuidPipe) id: string, @IdentifiersBody({ type: 'roles' }) ids: string[]): Promise<void> {
    await this.roles.replaceUserRoles(id, ids, inRelationshipBody);
  }

  @Delete(':id/relationships/roles')
  @Endpoint({ summary: 'Take roles from a user (all of them when there is no body); not your own', permissions: ['manage_users'], status: 204 })
  async removeRoles(@Param('id', UuidPipe) id: string, @IdentifiersBody({ type: 'roles', optional: true }) ids: string[] | null): Promise<void> {
    await this.roles.removeUserRoles(id, ids);
  }

}
