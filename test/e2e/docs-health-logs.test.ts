import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, TestApp } from '../support/test-app';
import { ApiClient, SignedUpUser, signUp } from '../support/http-client';
import { LogCapture } from '../support/log-capture';

describe('Swagger UI, health checks and structured logs', () => {
  let app: TestApp;
  let user: SignedUpUser;
  const logs = new LogCapture();

  before(async () => {
    app = await startTestApp({ LOG_LEVEL: 'info' }, undefined, logs);
    user = await signUp(app.baseUrl, 'docs');
  });
  after(async () => app.close());

  it('serves Swagger UI at /api/v1/docs and the OpenAPI JSON beside it, with bearer auth', async () => {
    const ui = await fetch(`${app.baseUrl}/api/v1/docs`);
    assert.equal(ui.status, 200);
    assert.match(await ui.text(), /swagger/i);
    const document = (await (await fetch(`${app.baseUrl}/api/v1/docs/openapi.json`)).json()) as any;
    assert.equal(document.components.securitySchemes.bearer.scheme, 'bearer');
    assert.ok(document.paths['/api/v1/users/me'], 'users/me documented');
    assert.ok(document.paths['/api/v1/tokens'], 'tokens documented');
  });

  it('answers liveness and readiness outside /api/v1', async () => {
    const live = await new ApiClient(app.baseUrl).get('/health/live');
    assert.equal(live.status, 200);
    const ready = await new ApiClient(app.baseUrl).get('/health/ready');
    assert.equal(ready.status, 200);
    assert.deepEqual(ready.body, { status: 'ok', database: 'ok', redis: 'ok' });
  });

  it('logs each route with the path it is served at: health outside /api/v1', () => {
    const routes = logs.parsed().filter((line) => line.msg === 'mapped route').map((line) => `${line.method} ${line.url}`);
    assert.ok(routes.includes('GET /health/live') && routes.includes('GET /health/ready'), routes.join(', '));
    assert.ok(routes.includes('GET /api/v1/users/me'), routes.join(', '));
    assert.ok(!logs.lines.some((line) => line.includes('/api/v1/health')), 'no line names a health route under /api/v1');
  });

  it('sends security headers', async () => {
    const result = await user.client.get('/api/v1/users/me');
    assert.match(result.headers.get('strict-transport-security') ?? '', /max-age=\d+/);
    assert.equal(result.headers.get('x-content-type-options'), 'nosniff');
    assert.ok(result.headers.get('x-request-id'));
  });

  it('logs JSON lines with request id, tenant id and user id, and never a token or password', async () => {
    const requestId = 'trace-me-12345';
    const result = await user.client.request('GET', '/api/v1/users/me', undefined, { 'x-request-id': requestId });
    assert.equal(result.headers.get('x-request-id'), requestId);
    await new ApiClient(app.baseUrl).post('/api/v1/tokens', { data: { type: 'tokens', attributes: { email: user.email, password: user.password } } });
    await new Promise((r) => setTimeout(r, 100));

    const parsed = logs.lines.map((line) => JSON.parse(line));
    const completed = parsed.find((entry) => entry.reqId === requestId && entry.msg === 'request completed');
    assert.ok(completed, 'a completion line for the request');
    assert.equal(completed.tenant_id, user.tenantId);
    assert.equal(completed.user_id, user.userId);
    const everything = logs.lines.join('\n');
    for (const secret of [user.password, user.access, user.refresh, user.access.split('.')[2]]) {
      assert.ok(!everything.includes(secret), 'a credential appeared in the logs');
    }
  });
});
