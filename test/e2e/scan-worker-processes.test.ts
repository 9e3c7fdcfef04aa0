import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { AppModule } from '../../src/app.module';
import { SignedUpUser, signUp } from '../support/http-client';
import { awsProvider, fixtureFindings, importAndWait, newSpoolDir, scanAccount, WORKER_SECRETS, writeProwlerStandIn } from '../support/scans-fixture';
import { adminRows, fastQueueEnv, spawnWorker, waitFor, waitForTaskEnd, waitForTaskState, WorkerProcess } from '../support/tasks-fixture';
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
  // The worker's own secrets are in its environment, as a deployment gives them; no scan may reach them.
  const env = {
    ...fastQueueEnv('scan-procs'),
    SCAN_SPOOL_DIR: newSpoolDir('procs'),
    PROWLER_BIN: writeProwlerStandIn(controlDir),
    JOB_MAX_STALLED_COUNT: '0',
    JWT_SECRET: `worker-jwt-${randomBytes(16).toString('hex')}`,
    SECRETS_ENCRYPTION_KEY: `k1:${randomBytes(32).toString('base64')}`,
    LOG_LEVEL: 'trace',
  };
  // Prowler under PROWLER_RUN_AS must pass through the spool to its run directory, and the stand-in writes here.
  chmodSync(env.SCAN_SPOOL_DIR, 0o711);
  chmodSync(controlDir, 0o777);
  writeFileSync(join(controlDir, 'probe-environ'), '');
  /** Every credential value the tests give a provider: no worker may print one. */
  const plaintexts: string[] = [];

  async function worker(overrides: Record<string, string> = {}): Promise<WorkerProcess> {
    const started = await spawnWorker({ ...env, ...overrides });
    workers.push(started);
    return started;
  }

  /** Stops every running worker, so the next job goes to the one the test starts. */
  async function stopWorkers(): Promise<void> {
    for (const started of workers) {
      if (started.child.exitCode === null && started.child.signalCode === null) started.child.kill('SIGTERM');
      await started.exited;
    }
  }

  /** An AWS provider with a static secret of fresh values, whose scans the stand-in ties to the provider's account. */
  async function providerWithSecret(): Promise<string> {
    const { id: providerId, uid } = await awsProvider(owner.client);
    const accessKey = `AKIA${randomBytes(8).toString('hex').toUpperCase()}`;
    const secretKey = `worker-plaintext-${randomBytes(12).toString('hex')}`;
    plaintexts.push(accessKey, secretKey);
    scanAccount(controlDir, accessKey, uid);
    const secret = await owner.client.post('/api/v1/providers/secrets', {
      data: {
        type: 'provider-secrets',
        attributes: { secret_type: 'static', secret: { aws_access_key_id: accessKey, aws_secret_access_key: secretKey } },
        relationships: { provider: { data: { type: 'providers', id: providerId } } },
      },
    });
    assert.equal(secret.status, 201, JSON.stringify(secret.body));
    return providerId;
  }

  /** What the stand-in recorded of the run that had this provider's credentials. */
  function standInRun(pidsBefore: Set<number>): { pid: number; uid: number; environLeaks: string[] } {
    const runs = readdirSync(controlDir)
      .filter((name) => name.startsWith('run-'))
      .map((name) => JSON.parse(readFileSync(join(controlDir, name), 'utf8')))
      .filter((run) => !pidsBefore.has(run.pid));
    assert.equal(runs.length, 1, 'the stand-in ran once');
    return runs[0];
  }

  const recordedPids = () =>
    new Set(
      readdirSync(controlDir)
        .filter((name) => name.startsWith('run-'))
        .map((name) => Number(/run-(\d+)/.exec(name)![1])),
    );

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

  it('without PROWLER_RUN_AS, a command in a scan reads the worker’s secrets from /proc (what the setting prevents)', async () => {
    await stopWorkers();
    await worker();
    const before = recordedPids();
    const { taskId } = await startScan(await providerWithSecret());
    const done = await waitForTaskEnd(taskId, 30000);
    assert.equal(done.state, 'completed', JSON.stringify(done.result));
    const run = standInRun(before);
    assert.equal(run.uid, process.getuid!(), 'the stand-in ran as the worker’s own user');
    for (const name of WORKER_SECRETS) assert.ok(run.environLeaks.some((found) => found.startsWith(`${name} of the parent`)), `${name} was readable: ${run.environLeaks.join(', ')}`);
  });

  it('a scans-only worker without the owner role runs Prowler as PROWLER_RUN_AS, which finds none of the worker’s secrets in any process’s environment', async () => {
    assert.equal(process.getuid!(), 0, 'switching to another user needs the worker to run as root, as it does in CI');
    await stopWorkers();
    await worker({ PROWLER_RUN_AS: 'nobody', DATABASE_ADMIN_URL: '', WORKER_QUEUES: 'scans' });
    const before = recordedPids();
    const { taskId, scanId } = await startScan(await providerWithSecret());
    const done = await waitForTaskEnd(taskId, 30000);
    assert.equal(done.state, 'completed', JSON.stringify(done.result));
    assert.equal(done.result.findings, 5);
    const run = standInRun(before);
    assert.equal(run.uid, 65534);
    assert.deepEqual(run.environLeaks, [], 'no worker secret was readable');
    const findings = await owner.client.get(`/api/v1/findings?filter[scan]=${scanId}`);
    assert.equal(findings.body.meta.pagination.count, 5);
  });

  it('under PROWLER_RUN_AS, an output that links to a file only the worker may read is refused, and nothing is ingested', async () => {
    const live =
      workers.find((w) => w.child.exitCode === null && w.child.signalCode === null) ??
      (await worker({ PROWLER_RUN_AS: 'nobody', DATABASE_ADMIN_URL: '', WORKER_QUEUES: 'scans' }));
    assert.ok(live);
    const providerId = await providerWithSecret();
    const [{ uid }] = await adminRows<{ uid: string }>(`SELECT uid FROM providers WHERE id = $1`, [providerId]);
    // Findings only the worker's user may read, standing for another tenant's upload in the spool.
    const privateFile = join(controlDir, 'private-findings.json');
    writeFileSync(privateFile, JSON.stringify(fixtureFindings(uid)), { mode: 0o600 });
    writeFileSync(join(controlDir, 'symlink-output'), privateFile);
    try {
      const { taskId, scanId } = await startScan(providerId);
      const done = await waitForTaskEnd(taskId, 30000);
      assert.equal(done.state, 'failed', JSON.stringify(done.result));
      assert.equal(done.result.outcome, 'engine_failed');
      assert.match(done.result.error, /not a regular file/);
      const [stored] = await adminRows<{ n: number }>(`SELECT count(*)::int AS n FROM findings WHERE scan_id = $1`, [scanId]);
      assert.equal(stored.n, 0);
    } finally {
      rmSync(join(controlDir, 'symlink-output'), { force: true });
    }
  });

  it('a failing Prowler run: the tenant gets a fixed message with a reference, the worker’s log gets the stderr under it', async () => {
    const live =
      workers.find((w) => w.child.exitCode === null && w.child.signalCode === null) ??
      (await worker({ PROWLER_RUN_AS: 'nobody', DATABASE_ADMIN_URL: '', WORKER_QUEUES: 'scans' }));
    writeFileSync(join(controlDir, 'fail'), '');
    try {
      const { taskId } = await startScan(await providerWithSecret());
      const done = await waitForTaskEnd(taskId, 30000);
      assert.equal(done.state, 'failed');
      const reference = /under reference ([0-9a-f-]{36})\.$/.exec(done.result.error)?.[1];
      assert.ok(reference, done.result.error);
      assert.ok(!done.result.error.includes('stand-in failed'), 'no stderr in the task result');
      await waitFor('the failure in the worker log', async () => live.output().includes(reference));
      const line = live.output().split('\n').find((text) => text.includes(reference))!;
      assert.match(line, /exited with code 2/);
      assert.match(line, /stand-in failed on purpose with \[redacted\]/);
    } finally {
      rmSync(join(controlDir, 'fail'), { force: true });
    }
  });

  it('no worker printed a credential it decrypted, at trace level', async () => {
    assert.ok(plaintexts.length >= 6, 'the scans above used credentials');
    await stopWorkers();
    for (const [index, started] of workers.entries()) {
      const output = started.output();
      assert.ok(output.length > 0, `worker ${index} logged`);
      for (const plaintext of plaintexts) assert.ok(!output.includes(plaintext), `worker ${index} printed a secret value`);
    }
  });
});
