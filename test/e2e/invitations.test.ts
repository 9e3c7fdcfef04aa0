import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { startTestApp, TestApp } from '../support/test-app';
import { ApiClient, signIn, SignedUpUser, signUp } from '../support/http-client';
import { adminClient } from '../support/database';
import { acceptInvitation, createRole, identifiers, invite, inviteMember, memberWith } from '../support/access-fixtures';

const DAY_MS = 24 * 60 * 60 * 1000;

function invitationBody(email: string, roleIds: string[], extra: Record<string, unknown> = {}) {
  return { data: { type: 'invitations', attributes: { email, ...extra }, relationships: { roles: identifiers('roles', roleIds) } } };
}

async function adminQuery(sql: string, params: unknown[] = []) {
  const db = await adminClient();
  try {
    return (await db.query(sql, params)).rows;
  } finally {
    await db.end();
  }
}

describe('invitations', () => {
  let app: TestApp;
  let owner: SignedUpUser;
  let roleId: string;

  before(async () => {
    app = await startTestApp();
    owner = await signUp(app.baseUrl, 'inviter');
    roleId = await createRole(owner.client, { manage_scans: true }, 'scanner');
  });
  after(async () => app.close());

  it('creates an invitation whose token is stored as its SHA-256 hash and, encrypted, shown on the detail while pending', async () => {
    const invitee = await signUp(app.baseUrl, 'invitee');
    const created = await owner.client.post('/api/v1/tenants/invitations', invitationBody(invitee.email, [roleId]));
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const { id, attributes, relationships } = created.body.data;
    assert.equal(attributes.state, 'pending');
    assert.equal(attributes.email, invitee.email);
    assert.ok(attributes.token.length >= 32);
    const validity = new Date(attributes.expires_at).getTime() - Date.now();
    assert.ok(validity > 7 * DAY_MS - 60000 && validity <= 7 * DAY_MS, 'seven days by default');
    assert.deepEqual(relationships.roles.data, [{ type: 'roles', id: roleId }]);
    assert.deepEqual(relationships.inviter.data, { type: 'users', id: owner.userId });

    const [row] = await adminQuery('SELECT row_to_json(i)::text AS row, token_hash, token_envelope FROM invitations i WHERE id = $1', [id]);
    assert.equal(row.token_hash, createHash('sha256').update(attributes.token).digest('hex'));
    assert.ok(!row.row.includes(attributes.token), 'the token itself is not stored in the clear');
    assert.match(row.token_envelope, /^v1\./);

    // The UI's invite link: the detail of a pending invitation shows its token, and its self link.
    const read = await owner.client.get(`/api/v1/tenants/invitations/${id}`);
    assert.equal(read.status, 200);
    assert.equal(read.body.data.attributes.token, attributes.token);
    assert.equal(read.body.data.links.self, `/api/v1/tenants/invitations/${id}`);
    const list = await owner.client.get('/api/v1/tenants/invitations?filter[state]=pending');
    assert.ok(list.body.data.some((i: { id: string }) => i.id === id));
    assert.ok(list.body.data.every((i: { attributes: { token?: string } }) => i.attributes.token === undefined));

    // An envelope moved to another invitation does not open there: it is bound to its own row.
    const other = await owner.client.post('/api/v1/tenants/invitations', invitationBody((await signUp(app.baseUrl, 'invitee-2')).email, [roleId]));
    await adminQuery('UPDATE invitations SET token_envelope = $1 WHERE id = $2', [row.token_envelope, other.body.data.id]);
    const moved = await owner.client.get(`/api/v1/tenants/invitations/${other.body.data.id}`);
    assert.equal(moved.status, 200);
    assert.equal(moved.body.data.attributes.token, undefined);

    // Once it is no longer pending, the token is not shown any more.
    assert.equal((await owner.client.delete(`/api/v1/tenants/invitations/${id}`)).status, 204);
    const revoked = await owner.client.get(`/api/v1/tenants/invitations/${id}`);
    assert.equal(revoked.body.data.attributes.state, 'revoked');
    assert.equal(revoked.body.data.attributes.token, undefined);
  });

  it('accepting makes the membership and grants the invitation’s roles', async () => {
    const invitee = await signUp(app.baseUrl, 'joiner');
    const { id, token } = await invite(owner.client, invitee.email, [roleId]);
    const accepted = await acceptInvitation(invitee.client, token);
    assert.equal(accepted.status, 201, JSON.stringify(accepted.body));
    assert.equal(accepted.body.data.type, 'memberships');
    assert.equal(accepted.body.data.attributes.role, 'member');
    assert.equal(accepted.body.data.relationships.tenant.data.id, owner.tenantId);
    assert.equal(accepted.body.data.relationships.user.data.id, invitee.userId);

    const inviting = await signIn(app.baseUrl, invitee.email, invitee.password, owner.tenantId);
    const client = new ApiClient(app.baseUrl, inviting.access);
    const me = await client.get('/api/v1/users/me');
    assert.deepEqual(me.body.data.relationships.roles.data, [{ type: 'roles', id: roleId }]);
    // The role grants manage_scans only: managing users is refused.
    assert.equal((await client.get('/api/v1/users')).status, 403);

    const mine = await invitee.client.get(`/api/v1/users/${invitee.userId}/memberships`);
    assert.deepEqual(mine.body.data.map((m: any) => m.relationships.tenant.data.id).sort(), [invitee.tenantId, owner.tenantId].sort());

    const state = await owner.client.get(`/api/v1/tenants/invitations/${id}`);
    assert.equal(state.body.data.attributes.state, 'accepted');
    const again = await acceptInvitation(invitee.client, token);
    assert.equal(again.status, 400);
    assert.equal(again.body.errors[0].code, 'invalid_state');
  });

  it('refuses a wrong token and someone else’s invitation alike (404)', async () => {
    const intended = await signUp(app.baseUrl, 'intended');
    const interloper = await signUp(app.baseUrl, 'interloper');
    const { token } = await invite(owner.client, intended.email, [roleId]);
    const wrongUser = await acceptInvitation(interloper.client, token);
    assert.equal(wrongUser.status, 404);
    const wrongToken = await acceptInvitation(interloper.client, 'not-a-real-token');
    assert.equal(wrongToken.status, 404);
    assert.deepEqual(wrongUser.body, wrongToken.body);
    // The intended user still can.
    assert.equal((await acceptInvitation(intended.client, token)).status, 201);
  });

  it('expires after its time: acceptance is refused and the state reads expired', async () => {
    const late = await signUp(app.baseUrl, 'late');
    const { id, token } = await invite(owner.client, late.email, [roleId]);
    await adminQuery(`UPDATE invitations SET expires_at = now() - interval '1 minute' WHERE id = $1`, [id]);
    const refused = await acceptInvitation(late.client, token);
    assert.equal(refused.status, 400);
    assert.equal(refused.body.errors[0].code, 'invitation_expired');
    const expired = await owner.client.get('/api/v1/tenants/invitations?filter[state]=expired');
    assert.deepEqual(expired.body.data.map((i: { id: string }) => i.id), [id]);
    // An inviter may renew it.
    const renewed = await owner.client.patch(`/api/v1/tenants/invitations/${id}`, {
      data: { type: 'invitations', id, attributes: { expires_at: new Date(Date.now() + 3 * DAY_MS).toISOString() } },
    });
    assert.equal(renewed.status, 200, JSON.stringify(renewed.body));
    assert.equal(renewed.body.data.attributes.state, 'pending');
    assert.equal((await acceptInvitation(late.client, token)).status, 201);
  });

  it('accepts an expiry between one and seven days away only', async () => {
    const soon = await owner.client.post('/api/v1/tenants/invitations', invitationBody('soon@example.com', [], { expires_at: new Date(Date.now() + 3600000).toISOString() }));
    assert.equal(soon.status, 400);
    assert.equal(soon.body.errors[0].source.pointer, '/data/attributes/expires_at');
    const far = await owner.client.post('/api/v1/tenants/invitations', invitationBody('far@example.com', [], { expires_at: new Date(Date.now() + 30 * DAY_MS).toISOString() }));
    assert.equal(far.status, 400);
    const garbage = await owner.client.post('/api/v1/tenants/invitations', invitationBody('garbage@example.com', [], { expires_at: 'next tuesday' }));
    assert.equal(garbage.status, 400);
    const fine = await owner.client.post('/api/v1/tenants/invitations', invitationBody('fine@example.com', [], { expires_at: new Date(Date.now() + 2 * DAY_MS).toISOString() }));
    assert.equal(fine.status, 201);
  });

  it('updates and revokes pending invitations only', async () => {
    const otherRole = await createRole(owner.client, {}, 'viewer');
    const { id, token } = await invite(owner.client, 'changing@example.com', [roleId]);
    const updated = await owner.client.patch(`/api/v1/tenants/invitations/${id}`, {
      data: { type: 'invitations', id, attributes: { email: 'changed@example.com' }, relationships: { roles: identifiers('roles', [otherRole]) } },
    });
    assert.equal(updated.status, 200, JSON.stringify(updated.body));
    assert.equal(updated.body.data.attributes.email, 'changed@example.com');
    assert.deepEqual(updated.body.data.relationships.roles.data, [{ type: 'roles', id: otherRole }]);

    assert.equal((await owner.client.delete(`/api/v1/tenants/invitations/${id}`)).status, 204);
    const revoked = await owner.client.get(`/api/v1/tenants/invitations/${id}`);
    assert.equal(revoked.body.data.attributes.state, 'revoked');
    assert.equal((await owner.client.delete(`/api/v1/tenants/invitations/${id}`)).status, 400);
    const patchRevoked = await owner.client.patch(`/api/v1/tenants/invitations/${id}`, { data: { type: 'invitations', id, attributes: { email: 'again@example.com' } } });
    assert.equal(patchRevoked.status, 400);
    const changed = await signUp(app.baseUrl, 'changed');
    const accept = await acceptInvitation(changed.client, token);
    assert.equal(accept.status, 404, 'the email no longer matches this user');
  });

  it('refuses inviting a member or an already invited email (409) and unknown roles (404)', async () => {
    const member = await inviteMember(app.baseUrl, owner, [roleId], 'existing');
    const existing = await owner.client.post('/api/v1/tenants/invitations', invitationBody(member.email.toUpperCase(), [roleId]));
    assert.equal(existing.status, 409);
    assert.equal(existing.body.errors[0].source.pointer, '/data/attributes/email');
    await invite(owner.client, 'twice@example.com', []);
    assert.equal((await owner.client.post('/api/v1/tenants/invitations', invitationBody('twice@example.com', []))).status, 409);
    const unknownRole = await owner.client.post('/api/v1/tenants/invitations', invitationBody('new@example.com', ['00000000-0000-4000-8000-000000000000']));
    assert.equal(unknownRole.status, 404);
    assert.equal(unknownRole.body.errors[0].source.pointer, '/data/relationships/roles/data/0');
    const alreadyMember = await signUp(app.baseUrl, 'double');
    const first = await invite(owner.client, alreadyMember.email, []);
    assert.equal((await acceptInvitation(alreadyMember.client, first.token)).status, 201);
    await adminQuery(`UPDATE invitations SET state = 'pending' WHERE id = $1`, [first.id]);
    assert.equal((await acceptInvitation(alreadyMember.client, first.token)).status, 409);
  });

  it('answers malformed invitation requests with 400/404/409, never 500', async () => {
    const cases: Array<[string, string, unknown, number]> = [
      ['POST', '/api/v1/tenants/invitations', invitationBody('not-an-email', []), 400],
      ['POST', '/api/v1/tenants/invitations', { data: { type: 'invitations', attributes: { email: 'no-roles@example.com' } } }, 400],
      ['POST', '/api/v1/tenants/invitations', invitationBody('token@example.com', [], { token: 'mine' }), 400],
      ['POST', '/api/v1/tenants/invitations', invitationBody('state@example.com', [], { state: 'accepted' }), 400],
      ['POST', '/api/v1/tenants/invitations', { data: { type: 'users', attributes: { email: 'x@example.com' } } }, 409],
      ['GET', '/api/v1/tenants/invitations/00000000-0000-4000-8000-000000000000', undefined, 404],
      ['GET', '/api/v1/tenants/invitations/nope', undefined, 400],
      ['GET', '/api/v1/tenants/invitations?filter[state]=lost', undefined, 400],
      ['DELETE', '/api/v1/tenants/invitations/00000000-0000-4000-8000-000000000000', undefined, 404],
      ['POST', '/api/v1/invitations/accept', { data: { type: 'invitations', attributes: {} } }, 400],
      ['POST', '/api/v1/invitations/accept', { data: { type: 'invitations', attributes: { invitation_token: 42 } } }, 400],
      ['POST', '/api/v1/invitations/accept', { data: { type: 'invitations', attributes: { invitation_token: 'x'.repeat(600) } } }, 400],
    ];
    for (const [method, path, body, status] of cases) {
      const result = await owner.client.request(method, path, body);
      assert.equal(result.status, status, `${method} ${path} ${JSON.stringify(body)} answered ${result.status} ${JSON.stringify(result.body)}`);
    }
    assert.equal((await new ApiClient(app.baseUrl).post('/api/v1/invitations/accept', { data: { type: 'invitations', attributes: { invitation_token: 'x' } } })).status, 401);
  });
});

describe('removing a member', () => {
  let app: TestApp;
  let owner: SignedUpUser;

  before(async () => {
    app = await startTestApp();
    owner = await signUp(app.baseUrl, 'remover');
  });
  after(async () => app.close());

  it('ends the removed member’s sessions at once: refresh and access tokens stop working', async () => {
    const member = await memberWith(app.baseUrl, owner, { manage_scans: true }, 'leaving');
    assert.equal((await member.client.get('/api/v1/users/me')).status, 200);
    const removed = await owner.client.delete(`/api/v1/tenants/${owner.tenantId}/memberships/${member.membershipId}`);
    assert.equal(removed.status, 204, JSON.stringify(removed.body));
    assert.equal((await member.client.get('/api/v1/users/me')).status, 401);
    const refreshed = await new ApiClient(app.baseUrl).post('/api/v1/tokens/refresh', { data: { type: 'tokens-refresh', attributes: { refresh: member.refresh } } });
    assert.equal(refreshed.status, 401);
    const [grants] = await adminQuery('SELECT count(*)::int AS count FROM user_roles WHERE user_id = $1 AND tenant_id = $2', [member.userId, owner.tenantId]);
    assert.equal(grants.count, 0, 'the member’s roles here went with the membership');
    assert.equal((await owner.client.get(`/api/v1/users/${member.userId}`)).status, 404);
  });

  it('keeps the last owner, and lets only an owner remove an owner', async () => {
    const memberships = await owner.client.get(`/api/v1/tenants/${owner.tenantId}/memberships?filter[role]=owner`);
    const ownerMembership = memberships.body.data[0].id;
    const last = await owner.client.delete(`/api/v1/tenants/${owner.tenantId}/memberships/${ownerMembership}`);
    assert.equal(last.status, 409);
    assert.equal(last.body.errors[0].code, 'last_owner');

    const manager = await memberWith(app.baseUrl, owner, { manage_users: true }, 'manager');
    const byMember = await manager.client.delete(`/api/v1/tenants/${owner.tenantId}/memberships/${ownerMembership}`);
    assert.equal(byMember.status, 403);
    assert.equal(byMember.body.errors[0].code, 'owner_only');
    const wrongTenant = await manager.client.delete(`/api/v1/tenants/00000000-0000-4000-8000-000000000000/memberships/${ownerMembership}`);
    assert.equal(wrongTenant.status, 404);
    const missing = await manager.client.delete(`/api/v1/tenants/${owner.tenantId}/memberships/00000000-0000-4000-8000-000000000000`);
    assert.equal(missing.status, 404);
  });
});
