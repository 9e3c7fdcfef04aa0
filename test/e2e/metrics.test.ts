import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { AppModule } from '../../src/app.module';
import { LocalAppModule } from '../../src/local-app.module';
import { QUEUE_NAMES } from '../../src/tasks/queue-names';
import { freePort } from '../support/api-process';
import { SignedUpUser, signUp } from '../support/http-client';
import { adminRows, enqueue, fastQueueEnv, spawnWorker, waitFor, waitForTaskEnd, WorkerProcess } from '../support/tasks-fixture';
import { startTestApp, TestApp } from '../support/test-app';

const TOKEN = randomBytes(24).toString('hex');

async function scrape(url: string, token?: string): Promise<{ status: number; type: string | null; text: string }> {
  const response = await fetch(url, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  return { status: response.status, type: response.headers.get('content-type'), text: await response.text() };
}

/** The value of one sample line, `name{labels} value`, with its labels in any order. */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of text.split('\n')) {
    const match = /^([a-z_:]+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const present = Object.fromEntries([...(match[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.entries(labels).every(([key, value]) => present[key] === value)) return Number(match[3]);
  }
  return undefined;
}

function assertUnauthorized(result: { status: number; type: string | null; text: string }): void {
  assert.equal(result.status, 401, result.text);
  assert.match(result.type ?? '', /application\/vnd\.api\+json/);
  assert.equal(JSON.parse(result.text).errors[0].code, 'not_authenticated');
}

describe('metrics', () => {
  const env = { ...fastQueueEnv('metrics'), METRICS_TOKEN: TOKEN };
  let app: TestApp;
  let alice: SignedUpUser;
  let worker: WorkerProcess | undefined;

  before(async () => {
    app = await startTestApp({ ...env, WORKERS_IN_PROCESS: 'true' }, LocalAppModule);
    alice = await signUp(app.baseUrl, 'metrics');
  });
  after(async () => {
    if (worker && worker.child.exitCode === null) {
      worker.child.kill('SIGTERM');
      await worker.exited;
    }
    await app.close();
  });

  it('are off unless a port or a token is set', async () => {
    const plain = await startTestApp({ ...fastQueueEnv('metrics-off') }, AppModule);
    try {
      assert.equal((await scrape(`${plain.baseUrl}/metrics`)).status, 404);
      assert.equal((await scrape(`${plain.baseUrl}/metrics`, TOKEN)).status, 404);
    } finally {
      await plain.close();
    }
  });

  it('refuse a scrape without the token, with a wrong one, and with a tenant user’s JWT', async () => {
    assertUnauthorized(await scrape(`${app.baseUrl}/metrics`));
    assertUnauthorized(await scrape(`${app.baseUrl}/metrics`, `${TOKEN}x`));
    assertUnauthorized(await scrape(`${app.baseUrl}/metrics`, alice.access));
  });

  it('with the token: requests by route template and status, pools, queues, jobs, the outbox and the process', async () => {
    assert.equal((await alice.client.get('/api/v1/users/me')).status, 200);
    const probe = `/no-such-route-${randomBytes(4).toString('hex')}`;
    assert.equal((await alice.client.get(probe)).status, 404);
    const task = await enqueue(app, alice.tenantId, { name: 'test-noop', args: { enqueuedAt: Date.now() } });
    assert.equal((await waitForTaskEnd(task.id)).state, 'completed');

    const { status, type, text } = await scrape(`${app.baseUrl}/metrics`, TOKEN);
    assert.equal(status, 200, text);
    assert.match(type ?? '', /^text\/plain; version=0\.0\.4/);
    assert.ok(sample(text, 'http_request_duration_seconds_count', { method: 'GET', route: '/api/v1/users/me', status_code: '200' })! >= 1);
    assert.ok(sample(text, 'http_request_duration_seconds_count', { method: 'GET', route: 'unmatched', status_code: '404' })! >= 1);
    assert.ok(!text.includes(probe), 'a raw URL became a label');
    for (const dataSource of ['default', 'replica', 'admin', 'adminReplica']) {
      assert.ok(sample(text, 'db_pool_connections', { data_source: dataSource, state: 'total' }) !== undefined, dataSource);
      assert.ok(sample(text, 'db_pool_connections', { data_source: dataSource, state: 'in_use' }) !== undefined, dataSource);
      assert.equal(sample(text, 'db_pool_waiting_requests', { data_source: dataSource }), 0, dataSource);
    }
    assert.ok(sample(text, 'db_pool_connections', { data_source: 'default', state: 'total' })! >= 1);
    for (const queue of QUEUE_NAMES) {
      for (const state of ['waiting', 'active', 'delayed', 'failed']) {
        assert.ok(sample(text, 'queue_jobs', { queue, state }) !== undefined, `${queue} ${state}`);
      }
    }
    await waitFor('the job to be measured', async () => {
      const latest = (await scrape(`${app.baseUrl}/metrics`, TOKEN)).text;
      return sample(latest, 'job_duration_seconds_count', { queue: 'backfill', job: 'test-noop', outcome: 'completed' })! >= 1;
    });
    assert.equal(sample(text, 'outbox_rows_waiting', {}) !== undefined, true);
    assert.equal(sample(text, 'outbox_oldest_row_age_seconds', {}) !== undefined, true);
    assert.ok(sample(text, 'process_cpu_user_seconds_total', {})! > 0);
    assert.ok(text.includes('nodejs_eventloop_lag_seconds'));
    // No replica of its own: nothing is routed, so no replica gauge claims one down (or caught up).
    assert.ok(!text.includes('db_replica_'), 'replica metrics without a replica');
  });

  it('count the outbox rows that wait and the age of the oldest', async () => {
    // Due in an hour, so the relay leaves it where it is; written 90 s ago.
    const id = randomUUID();
    await adminRows(
      `INSERT INTO outbox (id, tenant_id, queue_namespace, queue, operation, job_name, job_id, available_at, inserted_at)
       VALUES ($1, $2, $3, 'backfill', 'add-job', 'test-noop', $4, now() + interval '1 hour', now() - interval '90 seconds')`,
      [id, alice.tenantId, app.config.redis.prefix, id],
    );
    try {
      const { text } = await scrape(`${app.baseUrl}/metrics`, TOKEN);
      assert.ok(sample(text, 'outbox_rows_waiting', {})! >= 1);
      assert.ok(sample(text, 'outbox_oldest_row_age_seconds', {})! >= 90);
    } finally {
      await adminRows(`DELETE FROM outbox WHERE id = $1`, [id]);
    }
  });

  it('a worker process serves its own on METRICS_PORT, with the token', async () => {
    const port = await freePort();
    worker = await spawnWorker({ ...env, METRICS_PORT: String(port) });
    const url = `http://127.0.0.1:${port}/metrics`;
    assertUnauthorized(await scrape(url));
    const task = await enqueue(app, alice.tenantId, { name: 'test-noop', args: { enqueuedAt: Date.now() } });
    await waitForTaskEnd(task.id);
    const { status, text } = await scrape(url, TOKEN);
    assert.equal(status, 200, text);
    assert.ok(sample(text, 'queue_jobs', { queue: 'scans', state: 'waiting' }) !== undefined);
    assert.ok(sample(text, 'db_pool_connections', { data_source: 'default', state: 'total' }) !== undefined);
    assert.ok(text.includes('process_resident_memory_bytes'));
    assert.equal((await scrape(`http://127.0.0.1:${port}/elsewhere`, TOKEN)).status, 404);
  });

  it('METRICS_PORT alone serves them apart, not on the API port', async () => {
    const port = await freePort();
    const apart = await startTestApp({ ...fastQueueEnv('metrics-port'), METRICS_PORT: String(port) }, AppModule);
    try {
      assert.equal((await scrape(`${apart.baseUrl}/metrics`)).status, 404);
      await fetch(`${apart.baseUrl}/health/live`);
      const { status, text } = await scrape(`http://127.0.0.1:${port}/metrics`);
      assert.equal(status, 200, text);
      assert.ok(sample(text, 'http_request_duration_seconds_count', { method: 'GET', route: '/health/live', status_code: '200' })! >= 1);
    } finally {
      await apart.close();
    }
  });
});
