import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, TestApp } from '../support/test-app';
import { SignedUpUser, signUp } from '../support/http-client';
import {
  acceptInvitation,
  allBut,
  allPermissions,
  createGroup,
  createProvider,
  createRole,
  identifiers,
  invite,
  inviteMember,
  Member,
  memberWith,
  randomAwsUid,
  uniqueName,
} from '../support/access-fixtures';

type Guard = 'manage_users' | 'manage_providers' | null;

interface Call {
  method: string;
  path: string;
  body?: unknown;
}

/** One endpoint of the matrix: the permission it needs, and how to arrange a fresh call to it. */
interface EndpointCase {
  permission: Guard;
  success: number;
  arrange: () => Promise<Call>;
}

const STATIC_AWS = { aws_access_key_id: 'AKIAMATRIX', aws_secret_access_key: 'matrix-secret' };

describe('permission matrix: every endpoint refuses a role without its permission and serves one with it', () => {
  let app: TestApp;
  let owner: SignedUpUser;
  let tenantPath: string;
  let providerId: string;
  let groupId: string;
  let roleId: string;
  let target: Member;
  let invitationId: string;
  const lacking: Record<string, Member> = {};
  const having: Record<string, Member> = {};
  let noPermission: Member;
  let roleless: Member;

  const admin = () => owner.client;
  const newSecret = async () => {
    const provider = await createProvider(admin());
    const created = await admin().post('/api/v1/providers/secrets', {
      data: { type: 'provider-secrets', attributes: { secret_type: 'static', secret: STATIC_AWS }, relationships: { provider: { data: { type: 'providers', id: provider } } } },
    });
    return created.body.data.id as string;
  };

  const cases: Record<string, EndpointCase> = {
    'GET /providers': { permission: null, success: 200, arrange: async () => ({ method: 'GET', path: '/api/v1/providers' }) },
    'GET /providers/{id}': { permission: null, success: 200, arrange: async () => ({ method: 'GET', path: `/api/v1/providers/${providerId}` }) },
    'POST /providers': {
      permission: 'manage_providers',
      success: 201,
      arrange: async () => ({ method: 'POST', path: '/api/v1/providers', body: { data: { type: 'providers', attributes: { provider: 'aws', uid: randomAwsUid() } } } }),
    },
    'PATCH /providers/{id}': {
      permission: 'manage_providers',
      success: 200,
      arrange: async () => ({ method: 'PATCH', path: `/api/v1/providers/${providerId}`, body: { data: { type: 'providers', id: providerId, attributes: { alias: uniqueName('alias') } } } }),
    },
    'DELETE /providers/{id}': {
      permission: 'manage_providers',
      success: 202,
      arrange: async () => ({ method: 'DELETE', path: `/api/v1/providers/${await createProvider(admin())}` }),
    },
    'POST /providers/{id}/connection': { permission: 'manage_providers', success: 202, arrange: async () => ({ method: 'POST', path: `/api/v1/providers/${providerId}/connection` }) },
    'GET /providers/secrets': { permission: 'manage_providers', success: 200, arrange: async () => ({ method: 'GET', path: '/api/v1/providers/secrets' }) },
    'POST /providers/secrets': {
      permission: 'manage_providers',
      success: 201,
      arrange: async () => {
        const provider = await createProvider(admin());
        return {
          method: 'POST',
          path: '/api/v1/providers/secrets',
          body: { data: { type: 'provider-secrets', attributes: { secret_type: 'static', secret: STATIC_AWS }, relationships: { provider: { data: { type: 'providers', id: provider } } } } },
        };
      },
    },
    'GET /providers/secrets/{id}': { permission: 'manage_providers', success: 200, arrange: async () => ({ method: 'GET', path: `/api/v1/providers/secrets/${await newSecret()}` }) },
    'PATCH /providers/secrets/{id}': {
      permission: 'manage_providers',
      success: 200,
      arrange: async () => {
        const id = await newSecret();
        return { method: 'PATCH', path: `/api/v1/providers/secrets/${id}`, body: { data: { type: 'provider-secrets', id, attributes: { name: 'renamed' } } } };
      },
    },
    'DELETE /providers/secrets/{id}': { permission: 'manage_providers', success: 204, arrange: async () => ({ method: 'DELETE', path: `/api/v1/providers/secrets/${await newSecret()}` }) },

    'GET /provider-groups': { permission: 'manage_providers', success: 200, arrange: async () => ({ method: 'GET', path: '/api/v1/provider-groups' }) },
    'POST /provider-groups': {
      permission: 'manage_providers',
      success: 201,
      arrange: async () => ({ method: 'POST', path: '/api/v1/provider-groups', body: { data: { type: 'provider-groups', attributes: { name: uniqueName('group') } } } }),
    },
    'GET /provider-groups/{id}': { permission: 'manage_providers', success: 200, arrange: async () => ({ method: 'GET', path: `/api/v1/provider-groups/${groupId}` }) },
    'PATCH /provider-groups/{id}': {
      permission: 'manage_providers',
      success: 200,
      arrange: async () => ({ method: 'PATCH', path: `/api/v1/provider-groups/${groupId}`, body: { data: { type: 'provider-groups', id: groupId, attributes: { name: uniqueName('group') } } } }),
    },
    'DELETE /provider-groups/{id}': { permission: 'manage_providers', success: 204, arrange: async () => ({ method: 'DELETE', path: `/api/v1/provider-groups/${await createGroup(admin())}` }) },
    'POST /provider-groups/{id}/relationships/providers': {
      permission: 'manage_providers',
      success: 204,
      arrange: async () => ({ method: 'POST', path: `/api/v1/provider-groups/${await createGroup(admin())}/relationships/providers`, body: identifiers('providers', [providerId]) }),
    },
    'PATCH /provider-groups/{id}/relationships/providers': {
      permission: 'manage_providers',
      success: 204,
      arrange: async () => ({ method: 'PATCH', path: `/api/v1/provider-groups/${groupId}/relationships/providers`, body: identifiers('providers', [providerId]) }),
    },
    'DELETE /provider-groups/{id}/relationships/providers': {
      permission: 'manage_providers',
      success: 204,
      arrange: async () => ({ method: 'DELETE', path: `/api/v1/provider-groups/${await createGroup(admin(), [providerId])}/relationships/providers` }),
    },

    'GET /roles': { permission: 'manage_users', success: 200, arrange: async () => ({ method: 'GET', path: '/api/v1/roles' }) },
    'POST /roles': {
      permission: 'manage_users',
      success: 201,
      // A permission the actor holds: nobody grants what they lack (see grant-escalation.test.ts).
      arrange: async () => ({ method: 'POST', path: '/api/v1/roles', body: { data: { type: 'roles', attributes: { name: uniqueName('role'), unlimited_visibility: true } } } }),
    },
    'GET /roles/{id}': { permission: 'manage_users', success: 200, arrange: async () => ({ method: 'GET', path: `/api/v1/roles/${roleId}` }) },
    'PATCH /roles/{id}': {
      permission: 'manage_users',
      success: 200,
      arrange: async () => {
        const id = await createRole(admin(), {});
        return { method: 'PATCH', path: `/api/v1/roles/${id}`, body: { data: { type: 'roles', id, attributes: { unlimited_visibility: true } } } };
      },
    },
    'DELETE /roles/{id}': { permission: 'manage_users', success: 204, arrange: async () => ({ method: 'DELETE', path: `/api/v1/roles/${await createRole(admin(), {})}` }) },
    'POST /roles/{id}/relationships/provider_groups': {
      permission: 'manage_users',
      success: 204,
      arrange: async () => ({ method: 'POST', path: `/api/v1/roles/${await createRole(admin(), {})}/relationships/provider_groups`, body: identifiers('provider-groups', [groupId]) }),
    },
    'PATCH /roles/{id}/relationships/provider_groups': {
      permission: 'manage_users',
      success: 204,
      arrange: async () => ({ method: 'PATCH', path: `/api/v1/roles/${roleId}/relationships/provider_groups`, body: identifiers('provider-groups', [groupId]) }),
    },
    'DELETE /roles/{id}/relationships/provider_groups': {
      permission: 'manage_users',
      success: 204,
      arrange: async () => ({ method: 'DELETE', path: `/api/v1/roles/${await createRole(admin(), {}, 'role', [groupId])}/relationships/provider_groups` }),
    },

    'GET /users': { permission: 'manage_users', success: 200, arrange: async () => ({ method: 'GET', path: '/api/v1/users' }) },
    'GET /users/{id} (another user)': { permission: 'manage_users', success: 200, arrange: async () => ({ method: 'GET', path: `/api/v1/users/${target.userId}` }) },
    'GET /users/{id}/memberships (another user)': {
      permission: 'manage_users',
      success: 200,
      arrange: async () => ({ method: 'GET', path: `/api/v1/users/${target.userId}/memberships` }),
    },
    'POST /users/{id}/relationships/roles': {
      permission: 'manage_users',
      success: 204,
      arrange: async () => ({ method: 'POST', path: `/api/v1/users/${target.userId}/relationships/roles`, body: identifiers('roles', [await createRole(admin(), {})]) }),
    },
    'PATCH /users/{id}/relationships/roles': {
      permission: 'manage_users',
      success: 204,
      arrange: async () => ({ method: 'PATCH', path: `/api/v1/users/${target.userId}/relationships/roles`, body: identifiers('roles', [roleId]) }),
    },
    'DELETE /users/{id}/relationships/roles': {
      permission: 'manage_users',
      success: 204,
      arrange: async () => {
        const extra = await createRole(admin(), {});
        await admin().post(`/api/v1/users/${target.userId}/relationships/roles`, identifiers('roles', [extra]));
        return { method: 'DELETE', path: `/api/v1/users/${target.userId}/relationships/roles`, body: identifiers('roles', [extra]) };
      },
    },
    'DELETE /tenants/{id}/memberships/{membership_id}': {
      permission: 'manage_users',
      success: 204,
      arrange: async () => {
        const leaving = await inviteMember(app.baseUrl, owner, [roleId], 'leaving');
        return { method: 'DELETE', path: `${tenantPath}/memberships/${leaving.membershipId}` };
      },
    },

    'GET /tenants/invitations': { permission: 'manage_users', success: 200, arrange: async () => ({ method: 'GET', path: '/api/v1/tenants/invitations' }) },
    'POST /tenants/invitations': {
      permission: 'manage_users',
      success: 201,
      arrange: async () => ({
        method: 'POST',
        path: '/api/v1/tenants/invitations',
        body: { data: { type: 'invitations', attributes: { email: `${uniqueName('invitee')}@example.com` }, relationships: { roles: identifiers('roles', [roleId]) } } },
      }),
    },
    'GET /tenants/invitations/{id}': { permission: 'manage_users', success: 200, arrange: async () => ({ method: 'GET', path: `/api/v1/tenants/invitations/${invitationId}` }) },
    'PATCH /tenants/invitations/{id}': {
      permission: 'manage_users',
      success: 200,
      arrange: async () => ({
        method: 'PATCH',
        path: `/api/v1/tenants/invitations/${invitationId}`,
        body: { data: { type: 'invitations', id: invitationId, relationships: { roles: identifiers('roles', [roleId]) } } },
      }),
    },
    'DELETE /tenants/invitations/{id}': {
      permission: 'manage_users',
      success: 204,
      arrange: async () => ({ method: 'DELETE', path: `/api/v1/tenants/invitations/${(await invite(admin(), `${uniqueName('revoked')}@example.com`, [])).id}` }),
    },
  };

  before(async () => {
    app = await startTestApp();
    owner = await signUp(app.baseUrl, 'matrix');
    tenantPath = `/api/v1/tenants/${owner.tenantId}`;
    providerId = await createProvider(admin());
    groupId = await createGroup(admin(), [providerId]);
    // Within what the manage_users actor holds, so assigning it is theirs to grant.
    roleId = await createRole(admin(), { unlimited_visibility: true }, 'plain');
    target = await inviteMember(app.baseUrl, owner, [roleId], 'target');
    invitationId = (await invite(admin(), `${uniqueName('pending')}@example.com`, [roleId])).id;
    for (const permission of ['manage_users', 'manage_providers'] as const) {
      lacking[permission] = await memberWith(app.baseUrl, owner, allBut(permission), `without-${permission}`);
      having[permission] = await memberWith(app.baseUrl, owner, { [permission]: true, unlimited_visibility: true }, `with-${permission}`);
    }
    noPermission = await memberWith(app.baseUrl, owner, { unlimited_visibility: true }, 'no-permission');
    roleless = await inviteMember(app.baseUrl, owner, [], 'roleless');
  });
  after(async () => app.close());

  for (const [name, endpoint] of Object.entries(cases)) {
    const title = endpoint.permission ? `${name} needs ${endpoint.permission}` : `${name} needs no permission`;
    it(title, async () => {
      if (endpoint.permission) {
        for (const [who, actor] of [['a role lacking it', lacking[endpoint.permission]], ['no role at all', roleless]] as const) {
          const call = await endpoint.arrange();
          const refused = await actor.client.request(call.method, call.path, call.body);
          assert.equal(refused.status, 403, `${name} with ${who}: ${refused.status} ${JSON.stringify(refused.body)}`);
          assert.equal(refused.body.errors[0].code, 'permission_denied');
        }
      }
      const actor = endpoint.permission ? having[endpoint.permission] : noPermission;
      const call = await endpoint.arrange();
      const served = await actor.client.request(call.method, call.path, call.body);
      assert.equal(served.status, endpoint.success, `${name}: ${served.status} ${JSON.stringify(served.body)}`);
    });
  }

  it('POST /invitations/accept needs no permission: a member whose role grants nothing joins another tenant', async () => {
    const elsewhere = await signUp(app.baseUrl, 'elsewhere');
    const { token } = await invite(elsewhere.client, noPermission.email, []);
    const accepted = await acceptInvitation(noPermission.client, token);
    assert.equal(accepted.status, 201, JSON.stringify(accepted.body));
    assert.equal(accepted.body.data.relationships.tenant.data.id, elsewhere.tenantId);
  });

  it('anyone reads their own user and memberships, whatever their role', async () => {
    for (const member of [roleless, noPermission]) {
      const me = await member.client.get(`/api/v1/users/me`);
      assert.equal((await member.client.get(`/api/v1/users/${me.body.data.id}`)).status, 200);
      assert.equal((await member.client.get(`/api/v1/users/${me.body.data.id}/memberships`)).status, 200);
    }
  });
});

describe('roles and role assignments', () => {
  let app: TestApp;
  let owner: SignedUpUser;
  let adminRoleId: string;

  before(async () => {
    app = await startTestApp();
    owner = await signUp(app.baseUrl, 'roles');
    const me = await owner.client.get('/api/v1/users/me');
    adminRoleId = me.body.data.relationships.roles.data[0].id;
  });
  after(async () => app.close());

  it('creates a role with its seven flags, derived permission_state and relationships', async () => {
    const groupId = await createGroup(owner.client);
    const member = await memberWith(app.baseUrl, owner, {}, 'assignee');
    const created = await owner.client.post('/api/v1/roles', {
      data: {
        type: 'roles',
        attributes: { name: 'auditor', manage_scans: true, unlimited_visibility: true },
        relationships: { provider_groups: identifiers('provider-groups', [groupId]), users: identifiers('users', [member.userId]) },
      },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const role = created.body.data;
    assert.deepEqual(role.attributes, {
      ...role.attributes,
      name: 'auditor',
      manage_users: false,
      manage_account: false,
      manage_billing: false,
      manage_providers: false,
      manage_integrations: false,
      manage_scans: true,
      unlimited_visibility: true,
      permission_state: 'limited',
    });
    assert.deepEqual(role.relationships.provider_groups.data, [{ type: 'provider-groups', id: groupId }]);
    assert.deepEqual(role.relationships.users.data, [{ type: 'users', id: member.userId }]);

    const unlimited = await owner.client.get('/api/v1/roles?filter[permission_state]=unlimited');
    assert.deepEqual(unlimited.body.data.map((r: { id: string }) => r.id), [adminRoleId]);
    const byName = await owner.client.get('/api/v1/roles?filter[name]=auditor&fields[roles]=name,users');
    assert.deepEqual(Object.keys(byName.body.data[0].attributes), ['name']);
    assert.equal((await owner.client.post('/api/v1/roles', { data: { type: 'roles', attributes: { name: 'auditor' } } })).status, 409);
  });

  it('decides permissions by the first role assigned, and keeps that order deterministic', async () => {
    const nothing = await createRole(owner.client, {}, 'nothing');
    const everything = await createRole(owner.client, allPermissions(), 'everything');
    const member = await inviteMember(app.baseUrl, owner, [nothing, everything], 'two-roles');
    assert.equal((await member.client.get('/api/v1/roles')).status, 403, 'the first role, which grants nothing, decides');
    const me = await member.client.get('/api/v1/users/me');
    assert.deepEqual(me.body.data.relationships.roles.data.map((r: { id: string }) => r.id), [nothing, everything]);

    assert.equal((await owner.client.delete(`/api/v1/users/${member.userId}/relationships/roles`, identifiers('roles', [nothing]))).status, 204);
    assert.equal((await member.client.get('/api/v1/roles')).status, 200);
    // A role added later goes last, and replacing keeps the roles kept in place.
    assert.equal((await owner.client.post(`/api/v1/users/${member.userId}/relationships/roles`, identifiers('roles', [nothing]))).status, 204);
    assert.equal((await owner.client.patch(`/api/v1/users/${member.userId}/relationships/roles`, identifiers('roles', [nothing, everything]))).status, 204);
    assert.equal((await member.client.get('/api/v1/roles')).status, 200);
    const again = await owner.client.post(`/api/v1/users/${member.userId}/relationships/roles`, identifiers('roles', [nothing]));
    assert.equal(again.status, 400, 'a repeated relationship is refused');
    assert.equal(again.body.errors[0].source.pointer, '/data/0');
  });

  it('refuses removing your own role assignments', async () => {
    const ownRoles = await owner.client.delete(`/api/v1/users/${owner.userId}/relationships/roles`);
    assert.equal(ownRoles.status, 400);
    assert.equal(ownRoles.body.errors[0].code, 'own_assignment');
    const ownAssignment = await owner.client.patch(`/api/v1/roles/${adminRoleId}`, { data: { type: 'roles', id: adminRoleId, relationships: { users: identifiers('users', []) } } });
    assert.equal(ownAssignment.status, 400);
    assert.equal(ownAssignment.body.errors[0].code, 'own_assignment');
  });

  it('answers bad role and relationship input with 400/404/409, never 500', async () => {
    const roleId = await createRole(owner.client, {});
    const missing = '00000000-0000-4000-8000-000000000000';
    const cases: Array<[string, string, unknown, number]> = [
      ['POST', '/api/v1/roles', { data: { type: 'roles', attributes: { manage_users: true } } }, 400],
      ['POST', '/api/v1/roles', { data: { type: 'roles', attributes: { name: 'x', manage_users: 'yes' } } }, 400],
      ['POST', '/api/v1/roles', { data: { type: 'roles', attributes: { name: 'y', permission_state: 'unlimited' } } }, 400],
      ['POST', '/api/v1/roles', { data: { type: 'roles', attributes: { name: 'z'.repeat(300) } } }, 400],
      ['POST', '/api/v1/roles', { data: { type: 'roles', attributes: { name: 'g' }, relationships: { provider_groups: identifiers('provider-groups', [missing]) } } }, 404],
      ['POST', '/api/v1/roles', { data: { type: 'roles', attributes: { name: 'u' }, relationships: { users: identifiers('users', [missing]) } } }, 404],
      ['POST', '/api/v1/roles', { data: { type: 'roles', attributes: { name: 't' }, relationships: { users: identifiers('roles', [missing]) } } }, 409],
      ['PATCH', `/api/v1/roles/${missing}`, { data: { type: 'roles', id: missing, attributes: { name: 'gone' } } }, 404],
      ['DELETE', `/api/v1/roles/${missing}`, undefined, 404],
      ['GET', '/api/v1/roles?filter[permission_state]=some', undefined, 400],
      ['POST', `/api/v1/roles/${roleId}/relationships/provider_groups`, { data: { type: 'provider-groups', id: missing } }, 400],
      ['POST', `/api/v1/roles/${roleId}/relationships/provider_groups`, identifiers('provider-groups', [missing]), 404],
      ['POST', `/api/v1/roles/${roleId}/relationships/provider_groups`, identifiers('providers', [missing]), 409],
      ['POST', `/api/v1/roles/${roleId}/relationships/provider_groups`, { data: [{ type: 'provider-groups', id: 'nope' }] }, 400],
      ['POST', `/api/v1/roles/${missing}/relationships/provider_groups`, identifiers('provider-groups', []), 404],
      ['PATCH', `/api/v1/users/${missing}/relationships/roles`, identifiers('roles', [roleId]), 404],
      ['POST', `/api/v1/users/${owner.userId}/relationships/roles`, identifiers('roles', [missing]), 404],
      ['POST', '/api/v1/provider-groups', { data: { type: 'provider-groups', attributes: {} } }, 400],
      ['POST', '/api/v1/provider-groups', { data: { type: 'provider-groups', attributes: { name: 'r' }, relationships: { roles: identifiers('roles', [missing]) } } }, 404],
      ['DELETE', `/api/v1/provider-groups/${missing}`, undefined, 404],
      ['GET', '/api/v1/users?filter[is_active]=sometimes', undefined, 400],
      ['GET', `/api/v1/users/${missing}`, undefined, 404],
      ['GET', `/api/v1/users/${missing}/memberships`, undefined, 404],
    ];
    for (const [method, path, body, status] of cases) {
      const result = await owner.client.request(method, path, body);
      assert.equal(result.status, status, `${method} ${path} ${JSON.stringify(body)} answered ${result.status} ${JSON.stringify(result.body)}`);
    }
    assert.deepEqual((await owner.client.get('/api/v1/roles?filter[name__in]=g,u,t')).body.data, [], 'failed creates left nothing behind');
  });

  it('lists users with filters and includes their roles and memberships', async () => {
    const member = await memberWith(app.baseUrl, owner, { manage_scans: true }, 'listed');
    const listed = await owner.client.get(`/api/v1/users?filter[email]=${encodeURIComponent(member.email.toUpperCase())}&include=roles,memberships`);
    assert.equal(listed.status, 200, JSON.stringify(listed.body));
    assert.deepEqual(listed.body.data.map((u: { id: string }) => u.id), [member.userId]);
    const types = listed.body.included.map((item: { type: string }) => item.type).sort();
    assert.deepEqual(types, ['memberships', 'roles']);
    const all = await owner.client.get('/api/v1/users?sort=-date_joined&filter[search]=example.com&page[size]=100');
    assert.equal(all.body.data[0].id, member.userId, 'the newest member first');
    assert.equal(all.body.meta.pagination.count, all.body.data.length);
    assert.ok(all.body.data.some((u: { id: string }) => u.id === owner.userId));
  });
});
