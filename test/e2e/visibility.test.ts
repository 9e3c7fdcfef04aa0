import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, TestApp } from '../support/test-app';
import { SignedUpUser, signUp } from '../support/http-client';
import { adminClient } from '../support/database';
import { createGroup, createProvider, createRole, identifiers, inviteMember, Member, memberWith } from '../support/access-fixtures';

const STATIC_AWS = { aws_access_key_id: 'AKIAVISIBILITYTEST01', aws_secret_access_key: 'visibility-secret-value' };

function ids(result: { body: { data: Array<{ id: string }> } }): string[] {
  return result.body.data.map((item) => item.id).sort();
}

describe('provider visibility for limited roles', () => {
  let app: TestApp;
  let admin: SignedUpUser;
  let a: string;
  let b: string;
  let c: string;
  let groupA: string;
  let groupB: string;
  let limitedRole: string;
  let limited: Member;
  let secretOfB: string;

  before(async () => {
    app = await startTestApp();
    admin = await signUp(app.baseUrl, 'visibility');
    [a, b, c] = [await createProvider(admin.client), await createProvider(admin.client), await createProvider(admin.client)];
    groupA = await createGroup(admin.client, [a], 'group-a');
    groupB = await createGroup(admin.client, [b], 'group-b');
    // Reading providers needs no permission; manage_providers lets the limited member try writes and secrets too.
    limitedRole = await createRole(admin.client, { manage_providers: true }, 'limited', [groupA]);
    limited = await inviteMember(app.baseUrl, admin, [limitedRole], 'limited');
    const secret = await admin.client.post('/api/v1/providers/secrets', {
      data: {
        type: 'provider-secrets',
        attributes: { secret_type: 'static', secret: STATIC_AWS },
        relationships: { provider: { data: { type: 'providers', id: b } } },
      },
    });
    assert.equal(secret.status, 201, JSON.stringify(secret.body));
    secretOfB = secret.body.data.id;
  });
  after(async () => app.close());

  it('lists only the providers of the role’s groups, and 404s the others exactly like missing ones', async () => {
    assert.deepEqual(ids(await limited.client.get('/api/v1/providers?page[disable]=true')), [a]);
    assert.equal((await limited.client.get('/api/v1/providers')).body.meta.pagination.count, 1);
    assert.equal((await limited.client.get(`/api/v1/providers/${a}`)).status, 200);
    const missing = await limited.client.get('/api/v1/providers/00000000-0000-4000-8000-000000000000');
    for (const hidden of [b, c]) {
      const result = await limited.client.get(`/api/v1/providers/${hidden}`);
      assert.equal(result.status, 404);
      assert.deepEqual(result.body, missing.body, 'an invisible provider answers exactly like a missing one');
      const patch = await limited.client.patch(`/api/v1/providers/${hidden}`, { data: { type: 'providers', id: hidden, attributes: { alias: 'seen' } } });
      assert.equal(patch.status, 404);
    }
    assert.deepEqual(ids(await limited.client.get(`/api/v1/providers?filter[id__in]=${a},${b},${c}`)), [a]);
  });

  it('hides what hangs off an invisible provider: its secret and its group', async () => {
    assert.deepEqual(ids(await limited.client.get('/api/v1/providers/secrets')), []);
    assert.equal((await limited.client.get(`/api/v1/providers/secrets/${secretOfB}`)).status, 404);
    const patch = await limited.client.patch(`/api/v1/providers/secrets/${secretOfB}`, { data: { type: 'provider-secrets', id: secretOfB, attributes: { name: 'mine' } } });
    assert.equal(patch.status, 404);
    assert.equal((await limited.client.delete(`/api/v1/providers/secrets/${secretOfB}`)).status, 404);
    const secretForHidden = await limited.client.post('/api/v1/providers/secrets', {
      data: { type: 'provider-secrets', attributes: { secret_type: 'static', secret: STATIC_AWS }, relationships: { provider: { data: { type: 'providers', id: c } } } },
    });
    assert.equal(secretForHidden.status, 404);
    assert.equal(secretForHidden.body.errors[0].source.pointer, '/data/relationships/provider/data');

    assert.deepEqual(ids(await limited.client.get('/api/v1/provider-groups')), [groupA]);
    assert.equal((await limited.client.get(`/api/v1/provider-groups/${groupB}`)).status, 404);
    const include = await limited.client.get(`/api/v1/providers/${a}?include=provider_groups`);
    assert.deepEqual(include.body.included.map((g: { id: string }) => g.id), [groupA]);
  });

  it('cannot link a provider it cannot see', async () => {
    const intoOwnGroup = await limited.client.post(`/api/v1/provider-groups/${groupA}/relationships/providers`, identifiers('providers', [c]));
    assert.equal(intoOwnGroup.status, 404);
    assert.equal(intoOwnGroup.body.errors[0].source.pointer, '/data/0');
    const newGroup = await limited.client.post('/api/v1/provider-groups', {
      data: { type: 'provider-groups', attributes: { name: 'sneaky' }, relationships: { providers: identifiers('providers', [a, c]) } },
    });
    assert.equal(newGroup.status, 404);
    assert.equal(newGroup.body.errors[0].source.pointer, '/data/relationships/providers/data/1');
    assert.deepEqual(ids(await admin.client.get('/api/v1/provider-groups?filter[name]=sneaky')), [], 'nothing was half-written');
  });

  it('gains and loses access at once as the role’s group links change', async () => {
    const link = await admin.client.post(`/api/v1/roles/${limitedRole}/relationships/provider_groups`, identifiers('provider-groups', [groupB]));
    assert.equal(link.status, 204, JSON.stringify(link.body));
    assert.deepEqual(ids(await limited.client.get('/api/v1/providers')), [a, b].sort());
    assert.equal((await limited.client.get(`/api/v1/providers/secrets/${secretOfB}`)).status, 200);

    const unlink = await admin.client.delete(`/api/v1/roles/${limitedRole}/relationships/provider_groups`, identifiers('provider-groups', [groupA]));
    assert.equal(unlink.status, 204);
    assert.deepEqual(ids(await limited.client.get('/api/v1/providers')), [b]);
    assert.equal((await limited.client.get(`/api/v1/providers/${a}`)).status, 404);

    const emptied = await admin.client.delete(`/api/v1/provider-groups/${groupB}/relationships/providers`, identifiers('providers', [b]));
    assert.equal(emptied.status, 204);
    assert.deepEqual(ids(await limited.client.get('/api/v1/providers')), []);
    assert.equal((await limited.client.get(`/api/v1/providers/${b}`)).status, 404);

    const replaced = await admin.client.patch(`/api/v1/roles/${limitedRole}/relationships/provider_groups`, identifiers('provider-groups', [groupA]));
    assert.equal(replaced.status, 204);
    assert.deepEqual(ids(await limited.client.get('/api/v1/providers')), [a]);
  });

  it('changes with the member’s first role: unlimited visibility sees every provider', async () => {
    const seeAll = await createRole(admin.client, { unlimited_visibility: true }, 'see-all');
    const watcher = await inviteMember(app.baseUrl, admin, [seeAll], 'watcher');
    assert.deepEqual(ids(await watcher.client.get('/api/v1/providers')), [a, b, c].sort());
    // The member's first role decides: a second role with wider visibility adds nothing.
    const narrow = await memberWith(app.baseUrl, admin, {}, 'narrow', [groupA]);
    const added = await admin.client.post(`/api/v1/users/${narrow.userId}/relationships/roles`, identifiers('roles', [seeAll]));
    assert.equal(added.status, 204);
    assert.deepEqual(ids(await narrow.client.get('/api/v1/providers')), [a]);
  });

  it('hides a deleted provider from everyone, including unlimited roles and group relationships', async () => {
    const doomed = await createProvider(admin.client);
    const group = await createGroup(admin.client, [doomed, a]);
    const db = await adminClient();
    try {
      await db.query('UPDATE providers SET deleted_at = now() WHERE id = $1', [doomed]);
    } finally {
      await db.end();
    }
    assert.equal((await admin.client.get(`/api/v1/providers/${doomed}`)).status, 404);
    const groupView = await admin.client.get(`/api/v1/provider-groups/${group}`);
    assert.deepEqual(groupView.body.data.relationships.providers.data.map((p: { id: string }) => p.id), [a]);
    const link = await admin.client.post(`/api/v1/provider-groups/${group}/relationships/providers`, identifiers('providers', [doomed]));
    assert.equal(link.status, 404);
  });
});
