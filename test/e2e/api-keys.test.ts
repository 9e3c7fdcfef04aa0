import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from 'pg';
import { ApiKeyUsage } from '../../src/api-keys/api-key-usage';
import { startTestApp, TestApp } from '../support/test-app';
import { ApiClient, SignedUpUser, signUp } from '../support/http-client';
import { allPermissions, createRole, identifiers, memberWith } from '../support/access-fixtures';
import { adminClient } from '../support/database';

async function createKey(client: ApiClient, attributes: Record<string, unknown> = {}): Promise<{ id: string; key: string; body: any }> {
  const result = await client.post('/api/v1/api-keys', { data: { type: 'api-keys', attributes: { name: `key ${Math.random()}`, ...attributes } } });
  assert.equal(result.status, 201, JSON.stringify(result.body));
  return { id: result.body.data.id, key: result.body.data.attributes.api_key, body: result.body };
}

describe('API keys', () => {
  let app: TestApp;
  let owner: SignedUpUser;
  let anonymous: ApiClient;
  let db: Client;

  before(async () => {
    app = await startTestApp();
    owner = await signUp(app.baseUrl, 'keys');
    anonymous = new ApiClient(app.baseUrl);
    db = await adminClient();
  });
  after(async () => {
    await db.end();
    await app.close();
  });

  it('creates a key shown once, in the contract shape, and stores only a salted hash', async () => {
    const { id, key, body } = await createKey(owner.client, { name: 'ci pipeline' });
    const attributes = body.data.attributes;
    assert.match(key, /^pk_[A-Za-z0-9]{8}\.[A-Za-z0-9_-]{43}$/);
    assert.equal(attributes.prefix, key.split('.')[0]);
    assert.equal(attributes.revoked, false);
    assert.equal(attributes.last_used_at, null);
    assert.ok(Math.abs(Date.parse(attributes.expires_at) - (Date.now() + 365 * 86400000)) < 600000, 'a key without an expiry lasts a year, as in Prowler');
    assert.deepEqual(body.data.relationships.entity.data, { type: 'users', id: owner.userId });

    const read = await owner.client.get(`/api/v1/api-keys/${id}?include=entity`);
    assert.equal(read.status, 200);
    assert.equal(read.body.data.attributes.api_key, undefined);
    assert.equal(read.body.included[0].id, owner.userId);
    const listed = await owner.client.get('/api/v1/api-keys?filter[name__icontains]=pipeline');
    assert.deepEqual(listed.body.data.map((k: any) => k.id), [id]);
    assert.ok(!JSON.stringify(listed.body).includes(key.split('.')[1]));

    const stored = await db.query(`SELECT to_jsonb(k)::text AS row, salt, key_hash FROM api_keys k WHERE id = $1`, [id]);
    assert.ok(!stored.rows[0].row.includes(key.split('.')[1]), 'the secret is not stored');
    assert.equal(stored.rows[0].salt.length, 16);
    assert.equal(stored.rows[0].key_hash.length, 32);
  });

  it('a key acts as its user in its tenant, on any endpoint that takes a bearer token', async () => {
    const { key } = await createKey(owner.client);
    const byKey = anonymous.withApiKey(key);
    const me = await byKey.get('/api/v1/users/me');
    assert.equal(me.status, 200, JSON.stringify(me.body));
    assert.equal(me.body.data.id, owner.userId);
    assert.equal((await byKey.get('/api/v1/api-keys')).status, 200);
    const provider = await byKey.post('/api/v1/providers', { data: { type: 'providers', attributes: { provider: 'aws', uid: '123456789012' } } });
    assert.equal(provider.status, 201);
    // Lowercase scheme names are the same scheme (RFC 9110).
    assert.equal((await anonymous.request('GET', '/api/v1/users/me', undefined, { authorization: `api-key ${key}` })).status, 200);
  });

  it('a role change holds on the very next request made with the key', async () => {
    const member = await memberWith(app.baseUrl, owner, allPermissions(), 'keys-member');
    const { key } = await createKey(member.client);
    const byKey = anonymous.withApiKey(key);
    assert.equal((await byKey.get('/api/v1/api-keys')).status, 200);

    const limited = await createRole(owner.client, { unlimited_visibility: true }, 'no-account');
    const changed = await owner.client.patch(`/api/v1/users/${member.userId}/relationships/roles`, identifiers('roles', [limited]));
    assert.equal(changed.status, 204, JSON.stringify(changed.body));
    assert.equal((await byKey.get('/api/v1/api-keys')).status, 403);
    assert.equal((await byKey.get('/api/v1/users/me')).status, 200);
  });

  it('a key whose user left the tenant is 401', async () => {
    const member = await memberWith(app.baseUrl, owner, allPermissions(), 'keys-leaver');
    const { key } = await createKey(member.client);
    const byKey = anonymous.withApiKey(key);
    assert.equal((await byKey.get('/api/v1/users/me')).status, 200);
    const removed = await owner.client.delete(`/api/v1/tenants/${owner.tenantId}/memberships/${member.membershipId}`);
    assert.equal(removed.status, 204, JSON.stringify(removed.body));
    assert.equal((await byKey.get('/api/v1/users/me')).status, 401);
  });

  it('a revoked key is 401 at once, and revoking twice is 400', async () => {
    const { id, key } = await createKey(owner.client);
    const byKey = anonymous.withApiKey(key);
    assert.equal((await byKey.get('/api/v1/users/me')).status, 200);
    const revoked = await owner.client.delete(`/api/v1/api-keys/${id}/revoke`);
    assert.equal(revoked.status, 200);
    assert.equal(revoked.body.data.attributes.revoked, true);
    assert.equal((await byKey.get('/api/v1/users/me')).status, 401);
    assert.equal((await owner.client.delete(`/api/v1/api-keys/${id}/revoke`)).status, 400);
  });

  it('a key revoked through another API process stops working in this one too', async () => {
    const other = await startTestApp();
    try {
      const { id, key } = await createKey(owner.client);
      assert.equal((await anonymous.withApiKey(key).get('/api/v1/users/me')).status, 200);
      const revoked = await new ApiClient(other.baseUrl, owner.access).delete(`/api/v1/api-keys/${id}/revoke`);
      assert.equal(revoked.status, 200);
      assert.equal((await anonymous.withApiKey(key).get('/api/v1/users/me')).status, 401);
    } finally {
      await other.close();
    }
  });

  it('an expired key is 401', async () => {
    const { key } = await createKey(owner.client, { expires_at: new Date(Date.now() + 1500).toISOString() });
    const byKey = anonymous.withApiKey(key);
    assert.equal((await byKey.get('/api/v1/users/me')).status, 200);
    await sleep(1600);
    assert.equal((await byKey.get('/api/v1/users/me')).status, 401);
    const past = await owner.client.post('/api/v1/api-keys', { data: { type: 'api-keys', attributes: { name: 'already over', expires_at: '2020-01-01T00:00:00Z' } } });
    assert.equal(past.status, 400);
  });

  it('a wrong secret with a real prefix, and an unknown key, are 401', async () => {
    const { key } = await createKey(owner.client);
    const [prefix, secret] = key.split('.');
    const flipped = `${prefix}.${secret[0] === 'A' ? 'B' : 'A'}${secret.slice(1)}`;
    assert.equal((await anonymous.withApiKey(flipped).get('/api/v1/users/me')).status, 401);
    assert.equal((await anonymous.withApiKey(`pk_zzzzzzzz.${secret}`).get('/api/v1/users/me')).status, 401);
  });

  it('malformed Authorization headers are 401, never 500', async () => {
    const { key } = await createKey(owner.client);
    const headers = [
      '',
      key,
      'Api-Key',
      'Api-Key ',
      'Api-Key    ',
      `Api-Key ${key} extra`,
      `Bearer ${owner.access} Api-Key ${key}`,
      `Api-Key ${key}, Bearer ${owner.access}`,
      `Api-Key Api-Key ${key}`,
      `Api-Key ${'x'.repeat(10_000)}`,
      'x'.repeat(10_000),
      `Api-Key ${key.split('.')[0]}.`,
      `Api-Key .${key.split('.')[1]}`,
      'Api-Key pk_\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9.abc',
    ];
    for (const header of headers) {
      const result = await anonymous.request('GET', '/api/v1/users/me', undefined, { authorization: header });
      assert.equal(result.status, 401, `${header.slice(0, 60)}: ${result.status} ${JSON.stringify(result.body)}`);
      assert.ok(Array.isArray(result.body.errors));
    }
  });

  it('keeps last_used_at without a write per request, and records it on the next flush', async () => {
    const { id, key } = await createKey(owner.client);
    const byKey = anonymous.withApiKey(key);
    for (let i = 0; i < 5; i++) assert.equal((await byKey.get('/api/v1/users/me')).status, 200);
    const before = await db.query(`SELECT last_used_at FROM api_keys WHERE id = $1`, [id]);
    assert.equal(before.rows[0].last_used_at, null, 'no write on the request path');
    const started = Date.now();
    await app.app.get(ApiKeyUsage).flush();
    const read = await owner.client.get(`/api/v1/api-keys/${id}`);
    const usedAt = Date.parse(read.body.data.attributes.last_used_at);
    assert.ok(usedAt <= started && usedAt > started - 60_000, read.body.data.attributes.last_used_at);
  });

  it('a key cannot mint tokens for another tenant or join one', async () => {
    const { key } = await createKey(owner.client);
    const other = await signUp(app.baseUrl, 'keys-switch');
    const switched = await anonymous.withApiKey(key).post('/api/v1/tokens/switch', { data: { type: 'tokens-switch', attributes: { tenant_id: other.tenantId } } });
    assert.equal(switched.status, 403);
  });

  it('another tenant cannot see or revoke the key, and names are unique in a tenant', async () => {
    const { id } = await createKey(owner.client, { name: 'unique name' });
    const stranger = await signUp(app.baseUrl, 'keys-stranger');
    assert.equal((await stranger.client.get(`/api/v1/api-keys/${id}`)).status, 404);
    assert.equal((await stranger.client.delete(`/api/v1/api-keys/${id}/revoke`)).status, 404);
    const again = await owner.client.post('/api/v1/api-keys', { data: { type: 'api-keys', attributes: { name: 'unique name' } } });
    assert.equal(again.status, 400);
    const renamed = await owner.client.patch(`/api/v1/api-keys/${id}`, { data: { type: 'api-keys', id, attributes: { name: 'renamed key' } } });
    assert.equal(renamed.status, 200);
    assert.equal(renamed.body.data.attributes.name, 'renamed key');
  });

  it('failed key attempts spend the token endpoints’ budget, shared with sign-in', async () => {
    const limited = await startTestApp({ TOKEN_THROTTLE_POINTS: '4', TOKEN_THROTTLE_WINDOW_SECONDS: '60', REDIS_PREFIX: `${process.env.REDIS_PREFIX}-keythrottle` });
    try {
      const client = new ApiClient(limited.baseUrl);
      const statuses: number[] = [];
      for (let i = 0; i < 3; i++) statuses.push((await client.withApiKey(`pk_aaaaaaa${i}.${'b'.repeat(43)}`).get('/api/v1/users/me')).status);
      statuses.push((await client.post('/api/v1/tokens', { data: { type: 'tokens', attributes: { email: owner.email, password: 'Wrong-password-123' } } })).status);
      const throttledKey = await client.withApiKey(`pk_aaaaaaa9.${'b'.repeat(43)}`).get('/api/v1/users/me');
      statuses.push(throttledKey.status);
      statuses.push((await client.post('/api/v1/tokens', { data: { type: 'tokens', attributes: { email: owner.email, password: owner.password } } })).status);
      assert.deepEqual(statuses, [401, 401, 401, 401, 429, 429]);
      assert.ok(Number(throttledKey.headers.get('retry-after')) >= 1);
    } finally {
      await limited.close();
    }
  });

  it('documents both forms of the one security scheme in OpenAPI', async () => {
    const document = (await anonymous.get('/api/v1/docs/openapi.json')).body;
    assert.match(document.components.securitySchemes.bearer.description, /Api-Key <key>/);
    assert.equal(document.components.securitySchemes['api-key'].name, 'Authorization');
    const operation = document.paths['/api/v1/api-keys'].get;
    assert.deepEqual(operation.security, [{ bearer: [] }, { 'api-key': [] }]);
  });
});
