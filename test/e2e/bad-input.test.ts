import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import jwt from 'jsonwebtoken';
import { startTestApp, TestApp } from '../support/test-app';
import { ApiClient, SignedUpUser, signUp } from '../support/http-client';
import { createProvider } from '../support/access-fixtures';

function assertJsonApiError(result: { status: number; body: any; headers: Headers }, status: number, message: string): void {
  assert.equal(result.status, status, `${message}: got ${result.status} ${JSON.stringify(result.body)}`);
  assert.equal(result.headers.get('content-type'), 'application/vnd.api+json', message);
  assert.ok(Array.isArray(result.body?.errors), `${message}: no errors array`);
  assert.equal(result.body.errors[0].status, String(status), message);
  assert.equal(typeof result.body.errors[0].detail, 'string', message);
}

describe('bad input gets a clear 4xx JSON:API error, never a 500', () => {
  let app: TestApp;
  let user: SignedUpUser;

  before(async () => {
    app = await startTestApp();
    user = await signUp(app.baseUrl, 'bad-input');
  });
  after(async () => app.close());

  it('malformed JSON is 400', async () => {
    const result = await user.client.request('PATCH', `/api/v1/users/${user.userId}`, '{"data": {');
    assertJsonApiError(result, 400, 'malformed json');
  });

  it('an unsupported content type is 415', async () => {
    const result = await user.client.request('PATCH', `/api/v1/users/${user.userId}`, 'name=x', { 'content-type': 'text/plain' });
    assertJsonApiError(result, 415, 'text/plain');
  });

  it('an invalid UUID in the path is 400 naming the parameter', async () => {
    const result = await user.client.get('/api/v1/users/not-a-uuid');
    assertJsonApiError(result, 400, 'bad uuid');
    assert.equal(result.body.errors[0].source.parameter, 'id');
  });

  it('a body over 1 MB is 413', async () => {
    const big = JSON.stringify({ data: { type: 'users', id: user.userId, attributes: { name: 'x'.repeat(1024 * 1024 + 10) } } });
    const result = await user.client.request('PATCH', `/api/v1/users/${user.userId}`, big);
    assertJsonApiError(result, 413, 'big body');
  });

  it('an unknown attribute is 400 with a source.pointer', async () => {
    const result = await user.client.patch(`/api/v1/users/${user.userId}`, { data: { type: 'users', id: user.userId, attributes: { shoe_size: 44 } } });
    assertJsonApiError(result, 400, 'unknown attribute');
    assert.equal(result.body.errors[0].source.pointer, '/data/attributes/shoe_size');
  });

  it('a wrong resource type is 409 and a missing data member is 400', async () => {
    assertJsonApiError(await user.client.patch(`/api/v1/users/${user.userId}`, { data: { type: 'tenants', id: user.userId, attributes: {} } }), 409, 'wrong type');
    assertJsonApiError(await user.client.patch(`/api/v1/users/${user.userId}`, { name: 'x' }), 400, 'no data');
    assertJsonApiError(await user.client.patch(`/api/v1/users/${user.userId}`, []), 400, 'array body');
  });

  it('a PATCH body\'s data.id must be the path id, compared as the lowercase UUID; a bad path id is reported before a bad body', async () => {
    const mismatch = await user.client.patch(`/api/v1/users/${user.userId}`, { data: { type: 'users', id: '00000000-0000-4000-8000-000000000000', attributes: {} } });
    assertJsonApiError(mismatch, 409, 'id mismatch');
    assert.equal(mismatch.body.errors[0].code, 'id_mismatch');
    assert.equal(mismatch.body.errors[0].source.pointer, '/data/id');
    const upperPath = await user.client.patch(`/api/v1/users/${user.userId.toUpperCase()}`, { data: { type: 'users', id: user.userId, attributes: { name: 'upper path' } } });
    assert.equal(upperPath.status, 200, JSON.stringify(upperPath.body));
    assert.equal(upperPath.body.data.attributes.name, 'upper path');
    const upperBoth = await user.client.patch(`/api/v1/users/${user.userId.toUpperCase()}`, { data: { type: 'users', id: user.userId.toUpperCase(), attributes: { name: 'upper both' } } });
    assert.equal(upperBoth.status, 200, JSON.stringify(upperBoth.body));
    assert.equal(upperBoth.body.data.attributes.name, 'upper both');
    const badBoth = await user.client.patch('/api/v1/users/not-a-uuid', { nothing: true });
    assertJsonApiError(badBoth, 400, 'bad path id and body');
    assert.equal(badBoth.body.errors[0].source.parameter, 'id');
  });

  it('a relationship body of the wrong type or shape is refused with a pointer', async () => {
    const path = '/api/v1/roles/00000000-0000-4000-8000-000000000000/relationships/provider_groups';
    const wrongType = await user.client.delete(path, { data: [{ type: 'roles', id: user.userId }] });
    assertJsonApiError(wrongType, 409, 'wrong identifier type');
    assert.equal(wrongType.body.errors[0].source.pointer, '/data/0/type');
    const notArray = await user.client.post(path, { data: { type: 'provider-groups', id: user.userId } });
    assertJsonApiError(notArray, 400, 'data not an array');
    assert.equal(notArray.body.errors[0].source.pointer, '/data');
  });

  it('invalid attribute values are 400 with pointers, and nothing is written', async () => {
    const result = await user.client.patch(`/api/v1/users/${user.userId}`, { data: { type: 'users', id: user.userId, attributes: { name: 'ok name', email: 'not-an-email' } } });
    assertJsonApiError(result, 400, 'bad email');
    assert.equal(result.body.errors[0].source.pointer, '/data/attributes/email');
    const me = await user.client.get('/api/v1/users/me');
    assert.notEqual(me.body.data.attributes.name, 'ok name');
  });

  it('a weak password is refused at sign-up with a pointer', async () => {
    const result = await new ApiClient(app.baseUrl).post('/api/v1/users', { data: { type: 'users', attributes: { name: 'weak', email: 'weak@example.com', password: 'short' } } });
    assertJsonApiError(result, 400, 'weak password');
    assert.equal(result.body.errors[0].source.pointer, '/data/attributes/password');
  });

  it('unknown query parameters, filters, sorts and page sizes over the bound are 400', async () => {
    for (const query of ['foo=1', 'filter[nope]=1', 'sort=nope', 'page[size]=101', 'page[size]=0', 'page[number]=-1', 'include=nope', 'fields[tenants]=nope']) {
      const result = await user.client.get(`/api/v1/tenants?${query}`);
      assertJsonApiError(result, 400, query);
      assert.ok(result.body.errors[0].source.parameter, `${query} names no parameter`);
    }
  });

  it('missing, tampered, expired and alg:none tokens are 401', async () => {
    const anonymous = new ApiClient(app.baseUrl);
    assertJsonApiError(await anonymous.get('/api/v1/users/me'), 401, 'no token');
    const [header, payload, signature] = user.access.split('.');
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
    const tampered = `${header}.${Buffer.from(JSON.stringify({ ...claims, sub: '00000000-0000-4000-8000-000000000000' })).toString('base64url')}.${signature}`;
    assertJsonApiError(await anonymous.withToken(tampered).get('/api/v1/users/me'), 401, 'tampered');
    const none = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url')}.${payload}.`;
    assertJsonApiError(await anonymous.withToken(none).get('/api/v1/users/me'), 401, 'alg none');
    const expired = jwt.sign({ ...claims, exp: Math.floor(Date.now() / 1000) - 60, iat: Math.floor(Date.now() / 1000) - 120 }, app.config.jwt.signingKey, { algorithm: 'HS256' });
    const result = await anonymous.withToken(expired).get('/api/v1/users/me');
    assertJsonApiError(result, 401, 'expired');
    assert.match(result.body.errors[0].detail, /expired/);
    const otherAlgorithm = jwt.sign(claims, app.config.jwt.signingKey, { algorithm: 'HS512' });
    assertJsonApiError(await anonymous.withToken(otherAlgorithm).get('/api/v1/users/me'), 401, 'HS512');
    assertJsonApiError(await anonymous.withToken(user.refresh).get('/api/v1/users/me'), 401, 'refresh token as access token');
    assertJsonApiError(await anonymous.withToken('garbage').get('/api/v1/users/me'), 401, 'garbage');
  });

  it('a body nested 200,000 levels deep is a 400 on every endpoint, a secret included, and a body at the limit still parses', async () => {
    const levels = 200000;
    const deepArray = '['.repeat(levels) + ']'.repeat(levels);
    const deepObject = '{"":'.repeat(levels) + '1' + '}'.repeat(levels);
    const providerId = await createProvider(user.client, 'aws');
    const secretBody = (secret: string) =>
      `{"data":{"type":"provider-secrets","attributes":{"secret_type":"static","secret":${secret}},"relationships":{"provider":{"data":{"type":"providers","id":"${providerId}"}}}}}`;
    const anonymous = new ApiClient(app.baseUrl);
    const attempts: Array<[ApiClient, string, string, string]> = [
      [user.client, 'POST', '/api/v1/providers/secrets', secretBody(deepArray)],
      [user.client, 'POST', '/api/v1/providers/secrets', secretBody(deepObject)],
      [user.client, 'PATCH', `/api/v1/users/${user.userId}`, deepArray],
      [user.client, 'PATCH', `/api/v1/users/${user.userId}`, deepObject],
      [user.client, 'POST', '/api/v1/providers', `{"data":{"type":"providers","attributes":{"provider":"aws","uid":${deepArray}}}}`],
      [user.client, 'POST', '/api/v1/roles', `{"data":{"type":"roles","attributes":${deepObject}}}`],
      [anonymous, 'POST', '/api/v1/tokens', deepArray],
      [anonymous, 'POST', '/api/v1/users', deepObject],
    ];
    for (const [client, method, path, body] of attempts) {
      for (const type of ['application/vnd.api+json', 'application/json']) {
        const result = await client.request(method, path, body, { 'content-type': type });
        assertJsonApiError(result, 400, `${method} ${path} (${type})`);
        assert.equal(result.body.errors[0].code, 'too_deep');
      }
    }
    // 64 levels is within the limit: the body reaches validation, which names what is wrong with it.
    const atLimit = secretBody('{"a":'.repeat(61) + '1' + '}'.repeat(61));
    const result = await user.client.request('POST', '/api/v1/providers/secrets', atLimit);
    assertJsonApiError(result, 400, 'a secret at the depth limit');
    assert.notEqual(result.body.errors[0].code, 'too_deep');
  });

  it('an unknown endpoint is a JSON:API 404', async () => {
    assertJsonApiError(await user.client.get('/api/v1/nothing-here'), 404, 'unknown path');
  });

  it('a flood of odd inputs never produces a 500', async () => {
    const bodies = ['null', '"string"', '42', '{"data":null}', '{"data":{"type":"users","id":null}}', '{"data":{"type":"users","id":"' + user.userId + '","attributes":{"name":["a"]}}}', '{"data":{"type":"users","id":"' + user.userId + '","attributes":{"name":{"$gt":""}}}}', '{"data":{"type":"users","id":"' + user.userId + '","attributes":null}}', '{"__proto__":{"admin":true}}'];
    for (const body of bodies) {
      const result = await user.client.request('PATCH', `/api/v1/users/${user.userId}`, body);
      assert.ok(result.status >= 400 && result.status < 500, `${body} answered ${result.status}`);
    }
    for (const path of ['/api/v1/tenants?page[number]=99999999999', '/api/v1/tenants?filter[name]=%00', '/api/v1/tenants?sort=-', "/api/v1/tenants?filter[name]='; drop table users; --"]) {
      const result = await user.client.get(path);
      assert.ok(result.status < 500, `${path} answered ${result.status}`);
    }
  });
});
