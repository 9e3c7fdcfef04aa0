import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { randomUUID } from 'node:crypto';
import { startTestApp, TestApp } from '../support/test-app';
import { ApiClient, HttpResult, JSONAPI, SignedUpUser, signUp } from '../support/http-client';
import { STRONG_PASSWORD, uniqueEmail } from '../support/test-app';

/** A JSON:API error document: the media type, `errors[0]` with the status as a string and a code. */
function assertErrorDocument(result: { status: number; contentType: string | null; body: any }, status: number, code: string, label: string): void {
  assert.equal(result.status, status, `${label}: ${result.status} ${JSON.stringify(result.body)}`);
  assert.equal(result.contentType, JSONAPI, label);
  assert.equal(result.body?.errors?.[0]?.status, String(status), label);
  assert.equal(result.body.errors[0].code, code, label);
  assert.equal(typeof result.body.errors[0].detail, 'string', label);
}

const asResult = (r: HttpResult) => ({ status: r.status, contentType: r.headers.get('content-type'), body: r.body });

/** One request on a raw socket, for what fetch will not send (a request line Node's parser refuses, a stalled request). */
function rawExchange(baseUrl: string, request: string, keepOpenMs = 0): Promise<{ status: number; contentType: string | null; body: any; raw: string }> {
  const { port } = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    let raw = '';
    const socket = connect(Number(port), '127.0.0.1', () => socket.write(request));
    socket.on('data', (chunk) => (raw += chunk.toString()));
    socket.on('error', reject);
    socket.on('close', () => {
      const [head, body] = raw.split('\r\n\r\n');
      const type = /content-type: ([^\r]+)/i.exec(head)?.[1] ?? null;
      resolve({ status: Number(head.split(' ')[1]), contentType: type, body: body ? JSON.parse(body) : undefined, raw });
    });
    if (keepOpenMs) setTimeout(() => socket.end(), keepOpenMs);
  });
}

/**
 * Errors the HTTP layer raises before any handler (the router, Node's parser,
 * body limits) are JSON:API error documents with a code like every other, and
 * none repeats what the client sent beyond a short escaped excerpt.
 */
describe('HTTP-layer errors are JSON:API documents', () => {
  let app: TestApp;
  let user: SignedUpUser;

  before(async () => {
    app = await startTestApp({ REQUEST_TIMEOUT_MS: '1000' });
    user = await signUp(app.baseUrl, 'http-errors');
  });
  after(async () => app.close());

  it('an unknown route is 404 without the path in the answer', async () => {
    const result = await user.client.get('/api/v1/no-such-thing-here');
    assertErrorDocument(asResult(result), 404, 'not_found', 'unknown route');
    assert.ok(!JSON.stringify(result.body).includes('no-such-thing-here'));
  });

  it('a known path with another method is 405 with an Allow header', async () => {
    const result = await user.client.request('PUT', `/api/v1/users/${user.userId}`, {});
    assertErrorDocument(asResult(result), 405, 'method_not_allowed', 'PUT on a user');
    assert.equal(result.headers.get('allow'), 'GET, HEAD, PATCH, DELETE');
    const put = await user.client.request('PUT', '/api/v1/tenants', {});
    assertErrorDocument(asResult(put), 405, 'method_not_allowed', 'PUT on tenants');
    assert.equal(put.headers.get('allow'), 'GET, HEAD, POST');
  });

  it('a 10,000-character path parameter is 414 and the answer does not repeat it', async () => {
    const result = await user.client.get(`/api/v1/providers/${'a'.repeat(10000)}`);
    assertErrorDocument(asResult(result), 414, 'uri_too_long', 'long id');
    assert.ok(JSON.stringify(result.body).length < 300);
  });

  it('a query string over the header limit (600 UUIDs) is 431', async () => {
    const ids = Array.from({ length: 600 }, () => randomUUID()).join(',');
    const result = await rawExchange(app.baseUrl, `GET /api/v1/providers?filter[id__in]=${ids} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${user.access}\r\n\r\n`);
    assertErrorDocument(result, 431, 'headers_too_large', 'long query');
    assert.ok(!result.raw.includes(ids.slice(0, 36)));
  });

  it('a request that does not arrive within REQUEST_TIMEOUT_MS is 408', async () => {
    const result = await rawExchange(app.baseUrl, 'GET /api/v1/users/me HTTP/1.1\r\nHost: x\r\n', 4000);
    assertErrorDocument(result, 408, 'request_timeout', 'stalled headers');
  });

  it('bytes that are not HTTP are 400', async () => {
    const result = await rawExchange(app.baseUrl, 'HELLO THERE\r\n\r\n');
    assertErrorDocument(result, 400, 'invalid', 'not HTTP');
  });

  it('a body over the limit is 413, an unsupported content type 415 quoting a short escaped excerpt', async () => {
    const big = await user.client.request('PATCH', `/api/v1/users/${user.userId}`, JSON.stringify({ x: 'y'.repeat(1024 * 1024 + 1) }));
    assertErrorDocument(asResult(big), 413, 'payload_too_large', 'big body');
    const type = `text/<script>${'z'.repeat(5000)}`;
    const unsupported = await user.client.request('PATCH', `/api/v1/users/${user.userId}`, 'x', { 'content-type': type });
    assertErrorDocument(asResult(unsupported), 415, 'unsupported_media_type', 'text/script');
    const detail = unsupported.body.errors[0].detail as string;
    assert.ok(detail.length < 200 && !detail.includes('<script>') && detail.includes('\\u003cscript\\u003e'), detail);
  });

  it('an unknown query parameter is 400 quoting only an excerpt of its name', async () => {
    const name = `x${'q'.repeat(3000)}`;
    const result = await user.client.get(`/api/v1/providers?${name}=1`);
    assertErrorDocument(asResult(result), 400, 'invalid', 'long parameter name');
    assert.ok(JSON.stringify(result.body).length < 700, JSON.stringify(result.body).length.toString());
  });

  it('429 from the token throttle is a JSON:API document with Retry-After', async () => {
    const throttled = await startTestApp({ TOKEN_THROTTLE_POINTS: '1' });
    try {
      const anonymous = new ApiClient(throttled.baseUrl);
      const body = { data: { type: 'tokens', attributes: { email: uniqueEmail('throttle'), password: STRONG_PASSWORD } } };
      await anonymous.post('/api/v1/tokens', body);
      const second = await anonymous.post('/api/v1/tokens', body);
      assertErrorDocument(asResult(second), 429, 'throttled', 'second token request');
      assert.ok(second.headers.get('retry-after'));
    } finally {
      await throttled.close();
    }
  });
});

describe('strings no column can hold are 400 wherever they are sent', () => {
  let app: TestApp;
  let user: SignedUpUser;

  before(async () => {
    app = await startTestApp();
    user = await signUp(app.baseUrl, 'strings');
  });
  after(async () => app.close());

  const BAD_STRINGS: Array<[string, string]> = [
    ['a lone surrogate', 'ada\ud800@example.com'],
    ['a trailing lone surrogate', 'ada@example.com\udc00'],
    ['a NUL byte', 'ada\u0000@example.com'],
    ['an overlong string', `${'a'.repeat(70000)}@example.com`],
  ];

  it('sign-up, invitations and PATCH /users/{id}: an email holding each is 400 with a pointer, and nothing is written', async () => {
    for (const [label, email] of BAD_STRINGS) {
      const signUpResult = await new ApiClient(app.baseUrl).post('/api/v1/users', {
        data: { type: 'users', attributes: { name: 'Ada', email, password: STRONG_PASSWORD } },
      });
      assertErrorDocument(asResult(signUpResult), 400, 'invalid', `sign-up with ${label}`);
      assert.equal(signUpResult.body.errors[0].source.pointer, '/data/attributes/email');

      const invitation = await user.client.post('/api/v1/tenants/invitations', { data: { type: 'invitations', attributes: { email } } });
      assertErrorDocument(asResult(invitation), 400, 'invalid', `invitation with ${label}`);

      const patch = await user.client.patch(`/api/v1/users/${user.userId}`, { data: { type: 'users', id: user.userId, attributes: { email } } });
      assertErrorDocument(asResult(patch), 400, 'invalid', `PATCH with ${label}`);
    }
    const me = await user.client.get('/api/v1/users/me');
    assert.equal(me.body.data.attributes.email, user.email);
  });

  it('in any attribute, a relationship, a member name or a query parameter', async () => {
    const provider = await user.client.post('/api/v1/providers', { data: { type: 'providers', attributes: { provider: 'aws', uid: '123456789012', alias: 'x\u0000y' } } });
    assertErrorDocument(asResult(provider), 400, 'invalid', 'NUL in alias');
    assert.equal(provider.body.errors[0].source.pointer, '/data/attributes/alias');
    const key = await user.client.patch(`/api/v1/users/${user.userId}`, { data: { type: 'users', id: user.userId, attributes: { ['n\ud800']: 'x' } } });
    assertErrorDocument(asResult(key), 400, 'invalid', 'lone surrogate in a member name');
    const role = await user.client.post('/api/v1/roles', { data: { type: 'roles', attributes: { name: 'r' }, relationships: { provider_groups: { data: [{ type: 'provider-groups', id: '\ud800' }] } } } });
    assertErrorDocument(asResult(role), 400, 'invalid', 'lone surrogate in a relationship id');
    const query = await user.client.get('/api/v1/providers?filter[alias]=a%00b');
    assertErrorDocument(asResult(query), 400, 'invalid', 'NUL in a query value');
    assert.equal(query.body.errors[0].source.parameter, 'filter[alias]');
  });
});
