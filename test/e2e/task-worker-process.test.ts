import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AppModule } from '../../src/app.module';
import { SignedUpUser, signUp } from '../support/http-client';
import { startTestApp, TestApp } from '../support/test-app';
import {
  adminRows,
  enqueue,
  fastQueueEnv,
  insertProvider,
  spawnWorker,
  taskRow,
  waitFor,
  waitForTaskEnd,
  WorkerProcess,
} from '../support/tasks-fixture';

/**
 * Workers as separate processes (`node dist/src/worker.js`, what
 * `npm run start:worker` runs) beside an API process that only enqueues.
 */
describe('worker processes: SIGKILL, SIGTERM and stale tasks', () => {
  let app: TestApp;
  let alice: SignedUpUser;
  let providerId: string;
  const env = { ...fastQueueEnv('procs'), QUEUE_CONCURRENCY_BACKFILL: '1' };
  const workers: WorkerProcess[] = [];

  async function worker(extra: Record<string, string> = {}): Promise<WorkerProcess> {
    const started = await spawnWorker({ ...env, ...extra });
    workers.push(started);
    return started;
  }

  async function probeRows(taskId: string): Promise<number> {
    const [row] = await adminRows<{ count: string; distinct_names: string }>(
      `SELECT count(*) AS count, count(DISTINCT name) AS distinct_names FROM scans WHERE provider_id = $1 AND name LIKE 'probe step %'`,
      [providerId],
    );
    assert.equal(row.count, row.distinct_names, `task ${taskId}: a step was written twice`);
    return Number(row.count);
  }

  async function stop(target: WorkerProcess, signal: NodeJS.Signals): Promise<number | NodeJS.Signals | null> {
    if (target.child.exitCode === null) target.child.kill(signal);
    return target.exited;
  }

  before(async () => {
    app = await startTestApp(env, AppModule);
    alice = await signUp(app.baseUrl, 'procs');
  });
  // A test that fails half-way must not leave a worker behind to take the next test's job.
  afterEach(async () => {
    for (const started of workers.splice(0)) await stop(started, 'SIGTERM');
  });
  after(async () => {
    for (const started of workers) await stop(started, 'SIGKILL');
    await app.close();
  });

  it('a worker killed with SIGKILL mid-job: a new worker completes the job and its rows are not duplicated', async () => {
    providerId = await insertProvider(alice.tenantId);
    const first = await worker();
    const task = await enqueue(app, alice.tenantId, { name: 'test-probe', args: { providerId, steps: 12, stepMs: 120 } });
    await waitFor('the job to be part done', async () => ((await taskRow(task.id)).progress >= 25 ? true : undefined));
    // The next worker boots while the dead one's lock runs out.
    const next = worker();
    await stop(first, 'SIGKILL');
    const writtenBeforeKill = await probeRows(task.id);
    assert.ok(writtenBeforeKill > 0 && writtenBeforeKill < 12, `rows before the kill: ${writtenBeforeKill}`);
    assert.equal((await taskRow(task.id)).state, 'executing');
    await next;
    const done = await waitForTaskEnd(task.id, 20000);
    assert.equal(done.state, 'completed', JSON.stringify(done.result));
    assert.equal(done.attempts, 2, 'picked up a second time after the lock expired');
    assert.equal(await probeRows(task.id), 12);
    await stop(workers.pop()!, 'SIGTERM');
  });

  it('SIGTERM: the worker hands its running job back and exits; another worker finishes it', async () => {
    providerId = await insertProvider(alice.tenantId);
    const leaving = await worker();
    // Few steps (few transactions): both attempts stay well inside the probe's 5 s soft limit on a busy machine.
    const task = await enqueue(app, alice.tenantId, { name: 'test-probe', args: { providerId, steps: 10, stepMs: 150 } });
    await waitFor('the job to start', async () => ((await taskRow(task.id)).progress > 0 ? true : undefined));
    const startedAt = Date.now();
    assert.ok([0, 'SIGTERM'].includes((await stop(leaving, 'SIGTERM'))!), leaving.output());
    assert.ok(Date.now() - startedAt < 1500, 'the worker did not wait for the whole job');
    const handedBack = await taskRow(task.id);
    assert.equal(handedBack.state, 'available');

    await worker();
    const done = await waitForTaskEnd(task.id);
    assert.equal(done.state, 'completed');
    assert.equal(await probeRows(task.id), 10);
    await stop(workers.pop()!, 'SIGTERM');
  });

  it('SIGTERM: a job that ends within the grace period finishes in the leaving worker, once', async () => {
    providerId = await insertProvider(alice.tenantId);
    const leaving = await worker({ WORKER_SHUTDOWN_GRACE_MS: '8000' });
    const task = await enqueue(app, alice.tenantId, { name: 'test-probe', args: { providerId, steps: 6, stepMs: 150 } });
    await waitFor('the job to start', async () => ((await taskRow(task.id)).progress > 0 ? true : undefined));
    assert.ok([0, 'SIGTERM'].includes((await stop(leaving, 'SIGTERM'))!), leaving.output());
    const done = await taskRow(task.id);
    assert.equal(done.state, 'completed', 'finished before the process exited');
    assert.equal(done.attempts, 1);
    assert.equal(await probeRows(task.id), 6);
  });

  it('a job that stalls past its allowance is failed by BullMQ, and the sweep settles its task', async () => {
    providerId = await insertProvider(alice.tenantId);
    const noRecovery = { JOB_MAX_STALLED_COUNT: '0' };
    const doomed = await worker(noRecovery);
    // Few steps (few transactions): the job must still be running, inside its time limit, when its worker is killed.
    const task = await enqueue(app, alice.tenantId, { name: 'test-probe', args: { providerId, steps: 10, stepMs: 150 } });
    await waitFor('the job to start', async () => ((await taskRow(task.id)).progress > 0 ? true : undefined));
    const next = worker(noRecovery);
    await stop(doomed, 'SIGKILL');
    await next;
    const ended = await waitForTaskEnd(task.id, 20000).catch((error) => {
      throw new Error(`${error.message}\n${workers.map((w) => w.output()).join('\n----\n')}`);
    });
    assert.equal(ended.state, 'failed');
    assert.equal(ended.result.outcome, 'worker_lost');
    assert.match(ended.result.error, /stalled/);
  });

  it('with no connector configured, a connection check fails and says why', async () => {
    providerId = await insertProvider(alice.tenantId);
    if (!workers.some((started) => started.child.exitCode === null && started.child.signalCode === null)) await worker();
    const accepted = await alice.client.post(`/api/v1/providers/${providerId}/connection`);
    assert.equal(accepted.status, 202);
    const ended = await waitForTaskEnd(accepted.body.data.id);
    assert.equal(ended.state, 'failed');
    assert.equal(ended.result.outcome, 'connector_unavailable');
    assert.match(ended.result.error, /CONNECTION_CHECK_URL is not set/);
    const [provider] = await adminRows(`SELECT connected FROM providers WHERE id = $1`, [providerId]);
    assert.equal(provider.connected, null, 'an unchecked provider is not marked either way');
  });
});
