import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { LocalAppModule } from '../../src/local-app.module';
import { SignedUpUser, signUp } from '../support/http-client';
import { startTestApp, TestApp } from '../support/test-app';
import {
  adminRows,
  CheckServer,
  enqueue,
  fastQueueEnv,
  insertProvider,
  inspectQueue,
  pollTask,
  startCheckServer,
  taskRow,
  waitFor,
  waitForTaskEnd,
  waitForTaskState,
} from '../support/tasks-fixture';
import { allPermissions, memberWith } from '../support/access-fixtures';

/**
 * Tasks end to end: the API and its workers in one process (WORKERS_IN_PROCESS),
 * real PostgreSQL and Redis, jobs under this file's own Redis prefix.
 */
describe('tasks, processors, schedules and deletion', () => {
  let app: TestApp;
  let check: CheckServer;
  let alice: SignedUpUser;
  let bob: SignedUpUser;
  const env = fastQueueEnv('tasks');

  before(async () => {
    check = await startCheckServer();
    app = await startTestApp(
      {
        ...env,
        WORKERS_IN_PROCESS: 'true',
        CONNECTION_CHECK_URL: check.url,
        QUEUE_CONCURRENCY_BACKFILL: '2',
        QUEUE_CONCURRENCY_INTEGRATIONS: '1',
        DELETION_BATCH_SIZE: '2',
      },
      LocalAppModule,
    );
    alice = await signUp(app.baseUrl, 'alice');
    bob = await signUp(app.baseUrl, 'bob');
  });
  after(async () => {
    await app.close();
    await check.close();
  });

  async function providerWithUid(tenantId: string, suffix: string): Promise<{ id: string; uid: string }> {
    const id = await insertProvider(tenantId);
    const uid = `12345678${Math.floor(Math.random() * 900 + 100)}${suffix}`;
    await adminRows(`UPDATE providers SET uid = $2 WHERE id = $1`, [id, uid]);
    return { id, uid };
  }

  it('a connection check answers 202 with the task and Content-Location; the task records the connector’s answer', async () => {
    const good = await providerWithUid(alice.tenantId, '1');
    const denied = await providerWithUid(alice.tenantId, '0');

    const accepted = await alice.client.post(`/api/v1/providers/${good.id}/connection`);
    assert.equal(accepted.status, 202, JSON.stringify(accepted.body));
    const task = accepted.body.data;
    assert.equal(task.type, 'tasks');
    assert.equal(accepted.headers.get('content-location'), `/api/v1/tasks/${task.id}`);
    assert.equal(task.attributes.name, 'provider-connection-check');
    assert.ok(['available', 'executing', 'completed'].includes(task.attributes.state));
    assert.deepEqual(task.attributes.task_args, { provider_id: good.id });

    const done = await pollTask(alice.client, task.id);
    assert.equal(done.attributes.state, 'completed');
    assert.deepEqual(done.attributes.result, { connected: true, error: null });
    assert.equal(done.attributes.progress, 100);
    assert.ok(done.attributes.completed_at);
    const [provider] = await adminRows(`SELECT connected, connection_last_checked_at FROM providers WHERE id = $1`, [good.id]);
    assert.equal(provider.connected, true);
    assert.ok(provider.connection_last_checked_at);
    assert.equal(check.checks.get(good.uid), 1);

    const refused = await alice.client.post(`/api/v1/providers/${denied.id}/connection`);
    const refusedDone = await pollTask(alice.client, refused.body.data.id);
    assert.equal(refusedDone.attributes.state, 'completed');
    assert.deepEqual(refusedDone.attributes.result, { connected: false, error: 'AccessDenied' });
  });

  it('lists, filters, sorts and pages tasks; another tenant’s tasks are not there; bad input is 400', async () => {
    const listed = await alice.client.get('/api/v1/tasks?filter[name]=provider-connection-check&filter[state]=completed&sort=-inserted_at&page[size]=1');
    assert.equal(listed.status, 200);
    assert.equal(listed.body.data.length, 1);
    assert.ok(listed.body.meta.pagination.count >= 2);
    const searched = await alice.client.get('/api/v1/tasks?filter[name__icontains]=CONNECTION&fields[tasks]=name,state');
    assert.ok(searched.body.data.length >= 2);
    assert.deepEqual(Object.keys(searched.body.data[0].attributes).sort(), ['name', 'state']);
    const taskId = searched.body.data[0].id;

    assert.equal((await bob.client.get(`/api/v1/tasks/${taskId}`)).status, 404);
    assert.equal((await bob.client.delete(`/api/v1/tasks/${taskId}`)).status, 404);
    assert.equal((await bob.client.get('/api/v1/tasks')).body.data.length, 0);

    for (const path of ['/api/v1/tasks?filter[state]=bogus', '/api/v1/tasks?sort=tenant_id', '/api/v1/tasks/not-a-uuid', '/api/v1/tasks?filter[tenant]=x']) {
      const response = await alice.client.get(path);
      assert.equal(response.status, 400, `${path} answered ${response.status}`);
    }
    const finished = await alice.client.delete(`/api/v1/tasks/${taskId}`);
    assert.equal(finished.status, 400);
  });

  it('a role with limited visibility sees only the tasks of its providers, and without manage_providers may not start them', async () => {
    const seen = await insertProvider(alice.tenantId, 'seen');
    const hidden = await insertProvider(alice.tenantId, 'hidden');
    const seenTask = await enqueue(app, alice.tenantId, { name: 'test-probe', args: { providerId: seen, steps: 0, stepMs: 0 } });
    const hiddenTask = await enqueue(app, alice.tenantId, { name: 'test-probe', args: { providerId: hidden, steps: 0, stepMs: 0 } });
    const checkTask = (await alice.client.post(`/api/v1/providers/${seen}/connection`)).body.data.id as string;
    const [role] = await adminRows<{ id: string }>(`SELECT role_id AS id FROM user_roles WHERE user_id = $1`, [alice.userId]);
    const groupId = randomUUID();
    await adminRows(`UPDATE roles SET unlimited_visibility = false, manage_providers = false WHERE id = $1`, [role.id]);
    await adminRows(`INSERT INTO provider_groups (id, tenant_id, name) VALUES ($1, $2, 'limited')`, [groupId, alice.tenantId]);
    await adminRows(`INSERT INTO provider_group_memberships (id, tenant_id, provider_group_id, provider_id) VALUES ($1, $2, $3, $4)`, [randomUUID(), alice.tenantId, groupId, seen]);
    await adminRows(`INSERT INTO role_provider_groups (id, tenant_id, role_id, provider_group_id) VALUES ($1, $2, $3, $4)`, [randomUUID(), alice.tenantId, role.id, groupId]);
    try {
      const listed = await alice.client.get('/api/v1/tasks?page[size]=100');
      assert.deepEqual(listed.body.data.map((t: { id: string }) => t.id).sort(), [seenTask.id, checkTask].sort());
      assert.equal((await alice.client.get(`/api/v1/tasks/${seenTask.id}`)).status, 200);
      assert.equal((await alice.client.get(`/api/v1/tasks/${hiddenTask.id}`)).status, 404);
      assert.equal((await alice.client.post(`/api/v1/providers/${seen}/connection`)).status, 403);
      assert.equal((await alice.client.delete(`/api/v1/providers/${seen}`)).status, 403);
      const cancel = await alice.client.delete(`/api/v1/tasks/${checkTask}`);
      assert.equal(cancel.status, 403, 'cancelling a task needs the permission that starts it');
      assert.match(cancel.body.errors[0].detail, /manage_providers/);
    } finally {
      await adminRows(`DELETE FROM provider_groups WHERE id = $1`, [groupId]);
      await adminRows(`UPDATE roles SET unlimited_visibility = true, manage_providers = true WHERE id = $1`, [role.id]);
    }
    await waitForTaskEnd(seenTask.id);
    await waitForTaskEnd(hiddenTask.id);
    assert.notEqual((await waitForTaskEnd(checkTask)).state, 'cancelled');
  });

  it('a job for tenant A sees only tenant A’s rows, even right after tenant B’s job on the same worker', async () => {
    const aliceProvider = await insertProvider(alice.tenantId);
    const bobProvider = await insertProvider(bob.tenantId);
    const bobTask = await enqueue(app, bob.tenantId, { name: 'test-probe', args: { providerId: bobProvider, steps: 1, stepMs: 0 } });
    const bobDone = await waitForTaskEnd(bobTask.id);
    const aliceTask = await enqueue(app, alice.tenantId, { name: 'test-probe', args: { providerId: aliceProvider, steps: 1, stepMs: 0 } });
    const aliceDone = await waitForTaskEnd(aliceTask.id);

    assert.equal(bobDone.state, 'completed');
    assert.equal(aliceDone.state, 'completed', JSON.stringify(aliceDone.result));
    assert.deepEqual(aliceDone.result.tenants_seen, [alice.tenantId]);
    assert.ok(aliceDone.result.providers_seen.includes(aliceProvider));
    assert.ok(!aliceDone.result.providers_seen.includes(bobProvider));
    assert.deepEqual(bobDone.result.tenants_seen, [bob.tenantId]);
    // keepTenant: the probe asks for its tenant id, and gets the job's own.
    assert.equal(aliceDone.result.tenant, alice.tenantId);
  });

  it('transient errors are retried with backoff; other errors fail at once', async () => {
    const providerId = await insertProvider(alice.tenantId);
    const flaky = await enqueue(app, alice.tenantId, { name: 'test-probe', args: { providerId, steps: 1, stepMs: 0, failTransientlyUntilAttempt: 2 } });
    const broken = await enqueue(app, alice.tenantId, { name: 'test-probe', args: { providerId, steps: 1, stepMs: 0, failPermanently: true } });
    const flakyDone = await waitForTaskEnd(flaky.id);
    const brokenDone = await waitForTaskEnd(broken.id);
    assert.equal(flakyDone.state, 'completed');
    assert.equal(flakyDone.result.attempt, 3);
    assert.equal(flakyDone.attempts, 3);
    assert.equal(brokenDone.state, 'failed');
    assert.equal(brokenDone.result.outcome, 'error');
    assert.equal(brokenDone.attempts, 1);
    assert.doesNotMatch(JSON.stringify(brokenDone.result), /SELECT|INSERT/);
  });

  it('time limits: the soft limit fires the signal, the hard limit fails the job and the worker goes on', async () => {
    const providerId = await insertProvider(alice.tenantId);
    const honours = await enqueue(app, alice.tenantId, { name: 'test-probe', args: { providerId, steps: 1, stepMs: 60000 } });
    // Sleeps past the probe's 7 s hard limit without looking at its signal.
    const ignores = await enqueue(app, alice.tenantId, { name: 'test-probe', args: { providerId, steps: 1, stepMs: 9000, ignoreSignal: true } });
    const honoured = await waitForTaskEnd(honours.id);
    const ignored = await waitForTaskEnd(ignores.id);
    assert.equal(honoured.state, 'failed');
    assert.equal(honoured.result.outcome, 'time_limit');
    assert.match(honoured.result.error, /soft/);
    assert.equal(ignored.state, 'failed');
    assert.equal(ignored.result.outcome, 'time_limit');
    assert.match(ignored.result.error, /hard/);
    assert.equal(ignored.attempts, 1);
    const next = await enqueue(app, alice.tenantId, { name: 'test-probe', args: { providerId, steps: 1, stepMs: 0 } });
    assert.equal((await waitForTaskEnd(next.id)).state, 'completed');
  });

  it('cancelling: a waiting task ends cancelled at once, an executing one once its signal stopped it', async () => {
    const providerId = await insertProvider(alice.tenantId);
    // Few steps of some length: the jobs must outlast the cancel requests, yet stay well inside the probe's 5 s soft limit on a busy machine.
    const long = { providerId, steps: 12, stepMs: 150 };
    const first = await enqueue(app, alice.tenantId, { name: 'test-probe', args: long });
    const second = await enqueue(app, alice.tenantId, { name: 'test-probe', args: long });
    await waitForTaskState(first.id, 'executing');
    await waitForTaskState(second.id, 'executing');
    const waiting = await enqueue(app, alice.tenantId, { name: 'test-probe', args: long });
    await sleep(300);
    assert.equal((await taskRow(waiting.id)).state, 'available', 'QUEUE_CONCURRENCY_BACKFILL=2 holds a third job back');

    const cancelWaiting = await alice.client.delete(`/api/v1/tasks/${waiting.id}`);
    assert.equal(cancelWaiting.status, 202);
    assert.equal(cancelWaiting.headers.get('content-location'), `/api/v1/tasks/${waiting.id}`);
    assert.equal(cancelWaiting.body.data.attributes.state, 'cancelled');

    const cancelRunning = await alice.client.delete(`/api/v1/tasks/${first.id}`);
    assert.equal(cancelRunning.status, 202);
    assert.equal(cancelRunning.body.data.attributes.state, 'executing');
    const cancelled = await pollTask(alice.client, first.id);
    assert.equal(cancelled.attributes.state, 'cancelled');
    assert.ok(cancelled.attributes.progress < 100);

    assert.equal((await waitForTaskEnd(second.id)).state, 'completed');
    const waitingRow = await taskRow(waiting.id);
    assert.equal(waitingRow.state, 'cancelled');
    assert.equal(waitingRow.attempts, 0, 'the cancelled waiting task never ran');
    assert.equal((await alice.client.delete(`/api/v1/tasks/${waiting.id}`)).status, 400);
  });

  it('a provider deleted while its job waits: the job ends provider_deleted, without a retry', async () => {
    const busy = await providerWithUid(alice.tenantId, '1');
    const doomed = await providerWithUid(alice.tenantId, '1');
    check.hold(busy.uid);
    const busyTask = (await alice.client.post(`/api/v1/providers/${busy.id}/connection`)).body.data;
    await waitFor('the busy check to reach the checker', async () => check.checks.get(busy.uid) === 1);
    const doomedTask = (await alice.client.post(`/api/v1/providers/${doomed.id}/connection`)).body.data;
    assert.equal((await alice.client.delete(`/api/v1/providers/${doomed.id}`)).status, 202);
    check.release(busy.uid);

    const ended = await waitForTaskEnd(doomedTask.id);
    assert.equal(ended.state, 'failed');
    assert.equal(ended.result.outcome, 'provider_deleted');
    assert.equal(ended.attempts, 1);
    assert.equal(check.checks.get(doomed.uid), undefined, 'the deleted provider was never checked');
    assert.equal((await waitForTaskEnd(busyTask.id)).state, 'completed');
  });

  it('DELETE provider: it vanishes at once, and its deletion task removes its data in batches', async () => {
    const providerId = await insertProvider(alice.tenantId);
    for (let i = 0; i < 5; i++) {
      await adminRows(`INSERT INTO scans (id, tenant_id, provider_id, name, trigger) VALUES ($1, $2, $3, 'old scan', 'manual')`, [randomUUID(), alice.tenantId, providerId]);
    }
    assert.equal((await alice.client.get(`/api/v1/providers/${providerId}`)).status, 200);

    const accepted = await alice.client.delete(`/api/v1/providers/${providerId}`);
    assert.equal(accepted.status, 202);
    assert.equal(accepted.body.data.attributes.name, 'provider-deletion');
    assert.equal(accepted.headers.get('content-location'), `/api/v1/tasks/${accepted.body.data.id}`);
    assert.equal((await alice.client.get(`/api/v1/providers/${providerId}`)).status, 404);
    const list = await alice.client.get('/api/v1/providers?page[size]=100');
    assert.ok(!list.body.data.some((p: { id: string }) => p.id === providerId));
    assert.equal((await alice.client.post(`/api/v1/providers/${providerId}/connection`)).status, 404);
    assert.equal((await alice.client.delete(`/api/v1/providers/${providerId}`)).status, 404);
    assert.equal((await bob.client.delete(`/api/v1/providers/${await insertProvider(alice.tenantId)}`)).status, 404);

    const done = await pollTask(alice.client, accepted.body.data.id);
    assert.equal(done.attributes.state, 'completed');
    assert.deepEqual(done.attributes.result.deleted, { scans: 5, providers: 1 });
    assert.equal((await adminRows(`SELECT 1 FROM providers WHERE id = $1`, [providerId])).length, 0);
    assert.equal((await adminRows(`SELECT 1 FROM scans WHERE provider_id = $1`, [providerId])).length, 0);
  });

  it('the daily schedule: created with a first scan, visible, 409 on a second create, removed with the provider', async () => {
    const providerId = await insertProvider(alice.tenantId);
    const body = { data: { type: 'daily-schedules', attributes: { provider_id: providerId } } };
    const created = await alice.client.post('/api/v1/schedules/daily', body);
    assert.equal(created.status, 202, JSON.stringify(created.body));
    assert.equal(created.body.data.attributes.name, 'scan-perform');
    assert.equal(created.headers.get('content-location'), `/api/v1/tasks/${created.body.data.id}`);

    const listed = await alice.client.get(`/api/v1/schedules/daily?filter[provider]=${providerId}`);
    assert.equal(listed.status, 200);
    assert.equal(listed.body.data.length, 1);
    assert.equal(listed.body.data[0].type, 'daily-schedules');
    assert.equal(listed.body.data[0].attributes.every_hours, 24);
    assert.equal(listed.body.data[0].relationships.provider.data.id, providerId);
    assert.equal((await bob.client.get('/api/v1/schedules/daily')).body.data.length, 0);

    const scans = inspectQueue(app.config.redis.url, env.REDIS_PREFIX, 'scans');
    try {
      const scheduler = await waitFor('the BullMQ job scheduler', () => scans.getJobScheduler(`daily-scan:${providerId}`));
      assert.equal(Number(scheduler.every), 24 * 60 * 60 * 1000);

      const again = await alice.client.post('/api/v1/schedules/daily', body);
      assert.equal(again.status, 409);

      // No engine is configured here: the first scan fails, says why, and its scan row follows its task.
      const firstScan = await waitForTaskEnd(created.body.data.id);
      assert.equal(firstScan.state, 'failed');
      assert.equal(firstScan.result.outcome, 'engine_unavailable');
      assert.match(firstScan.result.error, /PROWLER_BIN/);
      const [scan] = await adminRows(`SELECT state, trigger FROM scans WHERE task_id = $1`, [created.body.data.id]);
      assert.deepEqual(scan, { state: 'failed', trigger: 'scheduled' });

      // A scheduler tick goes through the same start as a manual scan.
      await scans.add('scan-perform-scheduled', { tenantId: alice.tenantId, taskId: null, args: { providerId } }, { jobId: `tick-${providerId}` });
      await waitFor('the tick’s scan', async () => (await adminRows(`SELECT 1 FROM scans WHERE provider_id = $1`, [providerId])).length === 2);

      assert.equal((await alice.client.delete(`/api/v1/providers/${providerId}`)).status, 202);
      assert.equal((await alice.client.get(`/api/v1/schedules/daily?filter[provider]=${providerId}`)).body.data.length, 0);
      await waitFor('the scheduler to go', async () => (await scans.getJobScheduler(`daily-scan:${providerId}`)) === undefined);
    } finally {
      await scans.close();
    }
  });

  it('schedule requests with bad bodies or unknown providers are refused', async () => {
    const cases: Array<[unknown, number]> = [
      [{ data: { type: 'daily-schedules', attributes: { provider_id: 'nope' } } }, 400],
      [{ data: { type: 'daily-schedules', attributes: {} } }, 400],
      [{ data: { type: 'schedules', attributes: { provider_id: randomUUID() } } }, 409],
      [{ data: { type: 'daily-schedules', attributes: { provider_id: randomUUID() } } }, 404],
      [{ data: { type: 'daily-schedules', attributes: { provider_id: await insertProvider(bob.tenantId) } } }, 404],
      ['[]', 400],
    ];
    for (const [body, status] of cases) {
      const response = await alice.client.post('/api/v1/schedules/daily', body);
      assert.equal(response.status, status, `${JSON.stringify(body)} answered ${response.status}`);
    }
  });

  it('DELETE tenant: 202 with a deletion task; the tenant’s tokens stop working and its data goes', async () => {
    const carol = await signUp(app.baseUrl, 'carol');
    const providerId = await insertProvider(carol.tenantId);
    await adminRows(`INSERT INTO scans (id, tenant_id, provider_id, name, trigger) VALUES ($1, $2, $3, 'old scan', 'manual')`, [randomUUID(), carol.tenantId, providerId]);

    assert.equal((await alice.client.delete(`/api/v1/tenants/${carol.tenantId}`)).status, 404);
    // Owners only: a member whose role holds every permission is refused.
    const deputy = await memberWith(app.baseUrl, carol, allPermissions(), 'deputy');
    const refused = await deputy.client.delete(`/api/v1/tenants/${carol.tenantId}`);
    assert.equal(refused.status, 403, JSON.stringify(refused.body));
    assert.equal((await carol.client.get(`/api/v1/tenants/${carol.tenantId}`)).status, 200);
    const accepted = await carol.client.delete(`/api/v1/tenants/${carol.tenantId}`);
    assert.equal(accepted.status, 204, JSON.stringify(accepted.body));
    const [deletion] = await adminRows<{ id: string }>(`SELECT id FROM tasks WHERE tenant_id = $1 AND name = 'tenant-deletion'`, [carol.tenantId]);
    assert.equal(accepted.headers.get('content-location'), `/api/v1/tasks/${deletion.id}`);
    assert.equal((await carol.client.get('/api/v1/users/me')).status, 401);

    // The tenant row goes last; its task row goes with it (tasks cascade from their tenant).
    await waitFor('the tenant to be gone', async () => (await adminRows(`SELECT 1 FROM tenants WHERE id = $1`, [carol.tenantId])).length === 0);
    assert.equal((await adminRows(`SELECT 1 FROM providers WHERE tenant_id = $1`, [carol.tenantId])).length, 0);
    assert.equal((await adminRows(`SELECT 1 FROM scans WHERE tenant_id = $1`, [carol.tenantId])).length, 0);
  });
});
