import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { adminClient } from '../support/database';
import { HttpResult, SignedUpUser, signUp } from '../support/http-client';
import { startTestApp, TestApp } from '../support/test-app';
import { allPermissions, createGroup, createProvider, createRole, identifiers, invite, inviteMember, Member, memberWith, uniqueName } from '../support/access-fixtures';

function refused(result: HttpResult, status: number, code: string, what: string): void {
  assert.equal(result.status, status, `${what}: ${result.status} ${JSON.stringify(result.body)}`);
  assert.equal(result.body.errors[0].code, code, `${what}: ${JSON.stringify(result.body)}`);
}

async function roleIdsOf(client: SignedUpUser['client'], userId: string): Promise<string[]> {
  const user = await client.get(`/api/v1/users/${userId}`);
  return user.body.data.relationships.roles.data.map((r: { id: string }) => r.id);
}

describe('a member with manage_users cannot take over the tenant', () => {
  let app: TestApp;
  let owner: SignedUpUser;
  let adminRoleId: string;
  let ownerMembershipId: string;
  let manager: Member;
  let managerRoleId: string;

  before(async () => {
    app = await startTestApp();
    owner = await signUp(app.baseUrl, 'takeover');
    adminRoleId = (await roleIdsOf(owner.client, owner.userId))[0];
    ownerMembershipId = (await owner.client.get(`/api/v1/tenants/${owner.tenantId}/memberships?filter[role]=owner`)).body.data[0].id;
    manager = await memberWith(app.baseUrl, owner, { manage_users: true }, 'user-manager');
    managerRoleId = (await roleIdsOf(owner.client, manager.userId))[0];
  });
  after(async () => app.close());

  it('refuses the reported attack step by step: an all-powerful role, giving it to oneself, stripping the owner', async () => {
    const name = uniqueName('everything');
    const create = await manager.client.post('/api/v1/roles', { data: { type: 'roles', attributes: { name, ...allPermissions() } } });
    refused(create, 403, 'grant_not_held', 'creating a role with all seven permissions');
    assert.equal(create.body.errors[0].source.pointer, '/data/attributes/manage_account');
    assert.deepEqual((await owner.client.get(`/api/v1/roles?filter[name]=${name}`)).body.data, [], 'no role was created');

    refused(await manager.client.patch(`/api/v1/users/${manager.userId}/relationships/roles`, identifiers('roles', [adminRoleId])), 403, 'grant_not_held', 'taking the admin role (PATCH)');
    refused(await manager.client.post(`/api/v1/users/${manager.userId}/relationships/roles`, identifiers('roles', [adminRoleId])), 403, 'grant_not_held', 'taking the admin role (POST)');
    refused(
      await manager.client.patch(`/api/v1/roles/${adminRoleId}`, { data: { type: 'roles', id: adminRoleId, relationships: { users: identifiers('users', [owner.userId, manager.userId]) } } }),
      403,
      'grant_not_held',
      'joining the admin role from its side',
    );
    assert.deepEqual(await roleIdsOf(owner.client, manager.userId), [managerRoleId]);

    refused(await manager.client.delete(`/api/v1/users/${owner.userId}/relationships/roles`, identifiers('roles', [adminRoleId])), 403, 'owner_only', 'stripping the owner');
    refused(await manager.client.delete(`/api/v1/users/${owner.userId}/relationships/roles`), 403, 'owner_only', 'stripping the owner of everything');
    refused(await manager.client.patch(`/api/v1/users/${owner.userId}/relationships/roles`, identifiers('roles', [managerRoleId])), 403, 'owner_only', 'replacing the owner’s roles');
    refused(await manager.client.delete(`/api/v1/tenants/${owner.tenantId}/memberships/${ownerMembershipId}`), 403, 'owner_only', 'removing the owner');
    assert.deepEqual(await roleIdsOf(owner.client, owner.userId), [adminRoleId]);
    assert.equal((await owner.client.get('/api/v1/roles')).status, 200, 'the owner still manages the tenant');
  });

  it('refuses raising a role above the caller, and touching a role an owner holds', async () => {
    const mine = await manager.client.post('/api/v1/roles', { data: { type: 'roles', attributes: { name: uniqueName('helpdesk'), manage_users: true } } });
    assert.equal(mine.status, 201, 'a role within what the caller holds is fine');
    const id = mine.body.data.id;
    const raise = await manager.client.patch(`/api/v1/roles/${id}`, { data: { type: 'roles', id, attributes: { manage_users: true, manage_account: true } } });
    refused(raise, 403, 'grant_not_held', 'raising a role');
    assert.equal(raise.body.errors[0].source.pointer, '/data/attributes/manage_account');
    assert.equal((await owner.client.get(`/api/v1/roles/${id}`)).body.data.attributes.manage_account, false);
    // A flag already on is not granted again: a client resending every flag of a role may rename it.
    const scansRole = await createRole(owner.client, { manage_scans: true }, 'scans');
    const rename = await manager.client.patch(`/api/v1/roles/${scansRole}`, { data: { type: 'roles', id: scansRole, attributes: { name: uniqueName('renamed'), manage_scans: true } } });
    assert.equal(rename.status, 200, JSON.stringify(rename.body));

    const weaken = await manager.client.patch(`/api/v1/roles/${adminRoleId}`, { data: { type: 'roles', id: adminRoleId, attributes: { manage_billing: false } } });
    refused(weaken, 403, 'owner_only', 'weakening the owner’s role');
    refused(await manager.client.delete(`/api/v1/roles/${adminRoleId}`), 403, 'owner_only', 'deleting the owner’s role');
    refused(
      await manager.client.patch(`/api/v1/roles/${adminRoleId}`, { data: { type: 'roles', id: adminRoleId, relationships: { users: identifiers('users', []) } } }),
      403,
      'owner_only',
      'emptying the owner’s role',
    );
    assert.equal((await owner.client.get(`/api/v1/roles/${adminRoleId}`)).body.data.attributes.manage_billing, true);
    assert.deepEqual(await roleIdsOf(owner.client, owner.userId), [adminRoleId]);
  });

  it('refuses every way of assigning a role above the caller, and allows one within', async () => {
    const scansRole = await createRole(owner.client, { manage_scans: true }, 'scans');
    const nothing = await createRole(owner.client, {}, 'nothing');
    const target = await memberWith(app.baseUrl, owner, {}, 'target');
    const targetRole = (await roleIdsOf(owner.client, target.userId))[0];

    const attempts: Array<[string, () => Promise<HttpResult>]> = [
      ['POST /users/{id}/relationships/roles', () => manager.client.post(`/api/v1/users/${target.userId}/relationships/roles`, identifiers('roles', [scansRole]))],
      ['PATCH /users/{id}/relationships/roles', () => manager.client.patch(`/api/v1/users/${target.userId}/relationships/roles`, identifiers('roles', [scansRole]))],
      ['PATCH /roles/{id} users', () => manager.client.patch(`/api/v1/roles/${scansRole}`, { data: { type: 'roles', id: scansRole, relationships: { users: identifiers('users', [target.userId]) } } })],
      [
        'POST /roles with users',
        () => manager.client.post('/api/v1/roles', { data: { type: 'roles', attributes: { name: uniqueName('x'), manage_scans: true }, relationships: { users: identifiers('users', [target.userId]) } } }),
      ],
      [
        'POST /tenants/invitations',
        () => manager.client.post('/api/v1/tenants/invitations', { data: { type: 'invitations', attributes: { email: `${uniqueName('invitee')}@example.com` }, relationships: { roles: identifiers('roles', [scansRole]) } } }),
      ],
    ];
    for (const [what, attempt] of attempts) refused(await attempt(), 403, 'grant_not_held', what);
    const invitation = await invite(manager.client, `${uniqueName('pending')}@example.com`, [nothing]);
    refused(
      await manager.client.patch(`/api/v1/tenants/invitations/${invitation.id}`, { data: { type: 'invitations', id: invitation.id, relationships: { roles: identifiers('roles', [nothing, scansRole]) } } }),
      403,
      'grant_not_held',
      'PATCH /tenants/invitations/{id}',
    );
    assert.deepEqual(await roleIdsOf(owner.client, target.userId), [targetRole], 'nothing was assigned');
    const invitationRoles = (await owner.client.get(`/api/v1/tenants/invitations/${invitation.id}`)).body.data.relationships.roles.data;
    assert.deepEqual(invitationRoles.map((r: { id: string }) => r.id), [nothing]);

    // Within what the manager holds, assigning is theirs to do.
    assert.equal((await manager.client.post(`/api/v1/users/${target.userId}/relationships/roles`, identifiers('roles', [nothing]))).status, 204);
    // A role the owner gave stays when a client resends the whole list.
    assert.equal((await owner.client.post(`/api/v1/users/${target.userId}/relationships/roles`, identifiers('roles', [scansRole]))).status, 204);
    const resend = await manager.client.patch(`/api/v1/users/${target.userId}/relationships/roles`, identifiers('roles', [targetRole, nothing, scansRole]));
    assert.equal(resend.status, 204, JSON.stringify(resend.body));
  });

  it('refuses promoting someone by taking away their first role', async () => {
    const nothing = await createRole(owner.client, {}, 'first');
    const scansRole = await createRole(owner.client, { manage_scans: true }, 'second');
    const member = await inviteMember(app.baseUrl, owner, [nothing, scansRole], 'promoted');
    refused(await manager.client.delete(`/api/v1/users/${member.userId}/relationships/roles`, identifiers('roles', [nothing])), 403, 'grant_not_held', 'removing the first role');
    refused(await manager.client.patch(`/api/v1/users/${member.userId}/relationships/roles`, identifiers('roles', [scansRole])), 403, 'grant_not_held', 'replacing without the first role');
    refused(await manager.client.delete(`/api/v1/roles/${nothing}`), 403, 'grant_not_held', 'deleting the first role');
    assert.deepEqual(await roleIdsOf(owner.client, member.userId), [nothing, scansRole]);
    assert.equal((await member.client.get('/api/v1/scans')).status, 200);
    assert.equal((await member.client.post('/api/v1/scans', {})).status, 403, 'the member still lacks manage_scans');
  });

  it('refuses granting sight of providers the caller cannot see', async () => {
    const provider = await createProvider(owner.client);
    const group = await createGroup(owner.client, [provider]);
    const seesGroup = await createRole(owner.client, {}, 'sees-group', [group]);
    const target = await memberWith(app.baseUrl, owner, {}, 'viewer');
    const attempt = await manager.client.post(`/api/v1/users/${target.userId}/relationships/roles`, identifiers('roles', [seesGroup]));
    refused(attempt, 403, 'grant_not_held', 'assigning a role that sees a provider the manager cannot');
    assert.match(attempt.body.errors[0].detail, /providers/);
  });
});

describe('the tenant keeps an owner with every permission', () => {
  let app: TestApp;

  before(async () => {
    app = await startTestApp();
  });
  after(async () => app.close());

  it('refuses the last full owner weakening, losing or leaving their role, and allows it while another remains', async () => {
    const owner = await signUp(app.baseUrl, 'last-owner');
    const adminRoleId = (await roleIdsOf(owner.client, owner.userId))[0];
    const ownerMembershipId = (await owner.client.get(`/api/v1/tenants/${owner.tenantId}/memberships?filter[role]=owner`)).body.data[0].id;
    const lesser = await createRole(owner.client, { manage_users: true }, 'lesser');

    refused(await owner.client.patch(`/api/v1/roles/${adminRoleId}`, { data: { type: 'roles', id: adminRoleId, attributes: { manage_billing: false } } }), 409, 'last_owner', 'weakening');
    refused(await owner.client.delete(`/api/v1/roles/${adminRoleId}`), 409, 'last_owner', 'deleting the role');
    refused(await owner.client.patch(`/api/v1/users/${owner.userId}/relationships/roles`, identifiers('roles', [lesser])), 409, 'last_owner', 'a lesser role instead');
    refused(await owner.client.delete(`/api/v1/tenants/${owner.tenantId}/memberships/${ownerMembershipId}`), 409, 'last_owner', 'leaving');
    assert.deepEqual(await roleIdsOf(owner.client, owner.userId), [adminRoleId]);
    assert.equal((await owner.client.get(`/api/v1/roles/${adminRoleId}`)).body.data.attributes.manage_billing, true);

    // Owners are made at tenant creation only; a second one is arranged as the database would hold it.
    const second = await memberWith(app.baseUrl, owner, allPermissions(), 'second-owner');
    const admin = await adminClient();
    try {
      await admin.query(`UPDATE memberships SET role = 'owner' WHERE tenant_id = $1 AND user_id = $2`, [owner.tenantId, second.userId]);
    } finally {
      await admin.end();
    }
    const downgrade = await owner.client.patch(`/api/v1/users/${owner.userId}/relationships/roles`, identifiers('roles', [lesser]));
    assert.equal(downgrade.status, 204, JSON.stringify(downgrade.body));
    // The downgraded owner keeps manage_users but is no longer the full owner; the other one is, and stays so.
    const secondRoles = await roleIdsOf(second.client, second.userId);
    refused(await second.client.patch(`/api/v1/roles/${secondRoles[0]}`, { data: { type: 'roles', id: secondRoles[0], attributes: { manage_scans: false } } }), 409, 'last_owner', 'weakening the other full owner');
  });
});

describe('two owners stepping down at once', () => {
  let app: TestApp;

  before(async () => {
    app = await startTestApp();
  });
  after(async () => app.close());

  it('lets one of them, never both', async () => {
    const first = await signUp(app.baseUrl, 'first-owner');
    const second = await memberWith(app.baseUrl, first, allPermissions(), 'second-owner');
    const admin = await adminClient();
    try {
      await admin.query(`UPDATE memberships SET role = 'owner' WHERE tenant_id = $1 AND user_id = $2`, [first.tenantId, second.userId]);
    } finally {
      await admin.end();
    }
    const lesser = await createRole(first.client, { manage_users: true }, 'lesser');
    const results = await Promise.all(
      [first, second].map((owner) => owner.client.patch(`/api/v1/users/${owner.userId}/relationships/roles`, identifiers('roles', [lesser]))),
    );
    assert.deepEqual(results.map((r) => r.status).sort(), [204, 409], JSON.stringify(results.map((r) => r.body)));
    const stillFull = await Promise.all([first.userId, second.userId].map(async (userId) => (await roleIdsOf(first.client, userId))[0] !== lesser));
    assert.deepEqual(stillFull.filter(Boolean).length, 1, 'exactly one full owner remains');
  });
});

describe('provider groups: linking roles needs manage_users', () => {
  let app: TestApp;
  let owner: SignedUpUser;

  before(async () => {
    app = await startTestApp();
    owner = await signUp(app.baseUrl, 'group-roles');
  });
  after(async () => app.close());

  it('refuses POST and PATCH /provider-groups with roles to a member without manage_users', async () => {
    const role = await createRole(owner.client, {}, 'seer');
    const providersOnly = await memberWith(app.baseUrl, owner, { manage_providers: true, unlimited_visibility: true }, 'providers-only');
    const create = await providersOnly.client.post('/api/v1/provider-groups', {
      data: { type: 'provider-groups', attributes: { name: uniqueName('rewired') }, relationships: { roles: identifiers('roles', [role]) } },
    });
    refused(create, 403, 'permission_denied', 'POST with roles');
    assert.equal(create.body.errors[0].source.pointer, '/data/relationships/roles');
    const group = await createGroup(providersOnly.client);
    const patch = await providersOnly.client.patch(`/api/v1/provider-groups/${group}`, {
      data: { type: 'provider-groups', id: group, relationships: { roles: identifiers('roles', [role]) } },
    });
    refused(patch, 403, 'permission_denied', 'PATCH with roles');
    assert.deepEqual((await owner.client.get(`/api/v1/roles/${role}`)).body.data.relationships.provider_groups.data, [], 'no link was made');
    const rename = await providersOnly.client.patch(`/api/v1/provider-groups/${group}`, { data: { type: 'provider-groups', id: group, attributes: { name: uniqueName('renamed') } } });
    assert.equal(rename.status, 200, 'without roles, manage_providers is enough');

    const both = await memberWith(app.baseUrl, owner, { manage_providers: true, manage_users: true, unlimited_visibility: true }, 'both');
    const linked = await both.client.patch(`/api/v1/provider-groups/${group}`, { data: { type: 'provider-groups', id: group, relationships: { roles: identifiers('roles', [role]) } } });
    assert.equal(linked.status, 200, JSON.stringify(linked.body));
    assert.deepEqual((await owner.client.get(`/api/v1/roles/${role}`)).body.data.relationships.provider_groups.data, [{ type: 'provider-groups', id: group }]);
  });
});
