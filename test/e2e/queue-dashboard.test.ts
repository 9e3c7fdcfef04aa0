import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { AppModule } from '../../src/app.module';
import { QUEUE_NAMES } from '../../src/tasks/queue-names';
import { SignedUpUser, signUp } from '../support/http-client';
import { fastQueueEnv } from '../support/tasks-fixture';
import { startTestApp, TestApp } from '../support/test-app';

const TOKEN = randomBytes(24).toString('hex');
const basic = (password: string) => `Basic ${Buffer.from(`operator:${password}`).toString('base64')}`;

describe('queue dashboard', () => {
  let app: TestApp;
  let alice: SignedUpUser;

  before(async () => {
    app = await startTestApp({ ...fastQueueEnv('dashboard'), ADMIN_DASHBOARD_TOKEN: TOKEN }, AppModule);
    alice = await signUp(app.baseUrl, 'dashboard');
  });
  after(() => app.close());

  const get = (path: string, authorization?: string) => fetch(`${app.baseUrl}${path}`, { headers: authorization ? { authorization } : {} });

  it('is off without ADMIN_DASHBOARD_TOKEN', async () => {
    const plain = await startTestApp(fastQueueEnv('dashboard-off'), AppModule);
    try {
      assert.equal((await fetch(`${plain.baseUrl}/admin/queues/api/queues`, { headers: { authorization: `Bearer ${TOKEN}` } })).status, 404);
    } finally {
      await plain.close();
    }
  });

  it('refuses every request without the token (401 JSON:API), including a tenant user’s JWT and a wrong token', async () => {
    for (const [path, authorization] of [
      ['/admin/queues', undefined],
      ['/admin/queues/api/queues', undefined],
      ['/admin/queues/api/queues', `Bearer ${alice.access}`],
      ['/admin/queues/api/queues', `Bearer ${TOKEN.slice(0, -1)}`],
      ['/admin/queues/api/queues', basic('wrong')],
      ['/admin/queues/static/js/main.js', undefined],
    ] as const) {
      const response = await get(path, authorization);
      assert.equal(response.status, 401, `${path} with ${authorization}`);
      assert.match(response.headers.get('content-type') ?? '', /application\/vnd\.api\+json/);
      assert.match(response.headers.get('www-authenticate') ?? '', /^Basic/);
      const body = (await response.json()) as { errors: Array<{ status: string; code: string }> };
      assert.equal(body.errors[0].status, '401');
      assert.equal(body.errors[0].code, 'not_authenticated');
    }
  });

  it('with the token lists every queue, by Bearer or by HTTP Basic, and serves the page', async () => {
    for (const authorization of [`Bearer ${TOKEN}`, basic(TOKEN)]) {
      const response = await get('/admin/queues/api/queues', authorization);
      assert.equal(response.status, 200);
      const body = (await response.json()) as { queues: Array<{ name: string; readOnlyMode: boolean }> };
      assert.deepEqual(body.queues.map((queue) => queue.name).sort(), [...QUEUE_NAMES].sort());
      assert.ok(body.queues.every((queue) => queue.readOnlyMode));
    }
    const page = await get('/admin/queues', basic(TOKEN));
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /text\/html/);
  });
});
