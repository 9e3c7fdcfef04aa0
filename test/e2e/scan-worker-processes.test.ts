import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { AppModule } from '../../src/app.module';
import { SignedUpUser, signUp } from '../support/http-client';
import { awsProvider, fixtureFindings, importAndWait, newSpoolDir, scanAccount, writeProwlerStandIn } from '../support/scans-fixture';
import { adminRows, fastQueueEnv, spawnWorker, waitForTaskEnd, waitForTaskState, WorkerProcess } from '../support/tasks-fixture';
import { startTestApp, TestApp } from '../support/test-app';

/**
 * The deployment the spool is for: an API process that only receives
 * requests, and worker processes of their own (`node dist/src/worker.js`),
 * sharing nothing but the database, Redis and SCAN_SPOOL_DIR. PROWLER_BIN is
 * the stand-in executable of scans-fixture.ts, not Prowler.
 */
describe('scans with separate worker processes', () => {
  let app: TestApp;
  let owner: SignedUpUser;
  const workers: WorkerProcess[] = [];
  const controlDir = mkdtempSync(join(tmpdir(), 'cspm-prowler-stand-in-procs-'));
  const hold = join(controlDir, 'hold');
  // A stalled job is failed by BullMQ at once (no second chance), so the sweep has a dead task to settle.
  const env = {
    ...fastQueueEnv('scan-procs'),
    SCAN_SPOOL_DIR: newSpoolDir('procs'),
    PROWLER_BIN: writeProwlerStandIn(controlDir),
    JOB_MAX_STALLED_COUNT: '0',
  };

  async function worker(): Promise<WorkerProcess> {
    const started = await spawnWorker(env);
    workers.push(started);
    return started;
  }

  before(async () => {
    app = await startTestApp(env, AppModule);
    owner = await signUp(app.baseUrl, 'scan-procs');
  });
  after(async () => {
    rmSync(hold, { force: true });
    for (const started of workers) {
      if (started.child.exitCode === null && started.child.signalCode === null) started.child.kill('SIGKILL');
      await started.exited;
    }
    await app.close();
    for (const directory of [controlDir, env.SCAN_SPOOL_DIR]) rmSync(directory, { recursive: true, force: true });
  });

  async function startScan(providerId: string): Promise<{ taskId: string; scanId: string }> {
    const accepted = await owner.client.post('/api/v1/scans', {
      data: { type: 'scans', relationships: { provider: { data: { type: 'providers', id: providerId } } } },
    });
    assert.equal(accepted.status, 202, JSON.stringify(accepted.body));
    return { taskId: accepted.body.data.id, scanId: accepted.body.data.attributes.task_args.scan_id };
  }

  it('an import received by the API is ingested by a worker process through the shared spool', async () => {
    await worker();
    const { id: providerId, uid } = await awsProvider(owner.client);
    const task = await importAndWait(owner.client, providerId, gzipSync(JSON.stringify(fixtureFindings(uid))), 60000);
    assert.equal(task.attributes.state, 'completed', `${JSON.stringify(task.attributes.result)}\n${workers[0].output()}`);
    assert.equal(task.attributes.result.findings, 5);
    const findings = await owner.client.get(`/api/v1/findings?filter[scan]=${task.attributes.task_args.scan_id}`);
    assert.equal(findings.body.meta.pagination.count, 5);
  });

  it('a worker killed mid-scan: the sweep fails its scan as worker_lost and the waiting scan runs', async () => {
    const { id: providerId, uid } = await awsProvider(owner.client);
    scanAccount(controlDir, 'AKIAPROCSEXAMPLE0001', uid);
    const secret = await owner.client.post('/api/v1/providers/secrets', {
      data: {
        type: 'provider-secrets',
        attributes: { secret_type: 'static', secret: { aws_access_key_id: 'AKIAPROCSEXAMPLE0001', aws_secret_access_key: 'procs-secret-key' } },
        relationships: { provider: { data: { type: 'providers', id: providerId } } },
      },
    });
    assert.equal(secret.status, 201, JSON.stringify(secret.body));
    writeFileSync(hold, '');
    const doomed = workers.find((w) => w.child.exitCode === null) ?? (await worker());
    const lost = await startScan(providerId);
    await waitForTaskState(lost.taskId, 'executing', 20000);
    const waiting = await startScan(providerId);
    const next = worker();
    doomed.child.kill('SIGKILL');
    await doomed.exited;
    await next;

    const ended = await waitForTaskEnd(lost.taskId, 30000);
    assert.equal(ended.state, 'failed');
    assert.equal(ended.result.outcome, 'worker_lost');
    await waitForTaskState(waiting.taskId, 'executing', 20000);
    rmSync(hold);
    const done = await waitForTaskEnd(waiting.taskId, 30000);
    assert.equal(done.state, 'completed', JSON.stringify(done.result));
    assert.equal(done.result.findings, 5);
    const [lostScan, waitingScan] = await Promise.all(
      [lost.scanId, waiting.scanId].map(async (id) => (await adminRows<{ started_at: Date; completed_at: Date }>(`SELECT started_at, completed_at FROM scans WHERE id = $1`, [id]))[0]),
    );
    assert.ok(waitingScan.started_at >= lostScan.completed_at, 'the waiting scan started only once the lost one was settled');
  });
});
