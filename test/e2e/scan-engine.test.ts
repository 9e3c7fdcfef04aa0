import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { TenantDatabase } from '../../src/database/tenant-database';
import { LocalAppModule } from '../../src/local-app.module';
import { TasksRepository } from '../../src/tasks/tasks.repository';
import { scanRunLockKey } from '../../src/scans/execution/scan-run-lock';
import { createProvider } from '../support/access-fixtures';
import { SignedUpUser, signUp } from '../support/http-client';
import { awsProvider, newSpoolDir, scanAccount, writeProwlerStandIn } from '../support/scans-fixture';
import { adminRows, fastQueueEnv, taskRow, waitFor, waitForTaskEnd, waitForTaskState } from '../support/tasks-fixture';
import { startTestApp, TestApp } from '../support/test-app';

const ACCESS_KEY_PREFIX = 'AKIASTANDINEXAM';
const SECRET_KEY = 'stand-in-secret-key-never-on-a-command-line';

/** PROWLER_BIN is the stand-in executable of scans-fixture.ts (writeProwlerStandIn): it is not Prowler and scans nothing. */
describe('scans through the Prowler CLI engine (a stand-in executable) and one scan per provider at a time', () => {
  let app: TestApp;
  let owner: SignedUpUser;
  const controlDir = mkdtempSync(join(tmpdir(), 'cspm-prowler-stand-in-'));
  const hold = join(controlDir, 'hold');
  const spoolDir = newSpoolDir('engine');

  before(async () => {
    app = await startTestApp(
      { ...fastQueueEnv('scan-engine'), WORKERS_IN_PROCESS: 'true', SCAN_SPOOL_DIR: spoolDir, PROWLER_BIN: writeProwlerStandIn(controlDir) },
      LocalAppModule,
    );
    owner = await signUp(app.baseUrl, 'scanner');
  });
  after(async () => {
    rmSync(hold, { force: true });
    await app.close();
    for (const directory of [controlDir, spoolDir]) rmSync(directory, { recursive: true, force: true });
  });

  const runs = () =>
    readdirSync(controlDir)
      .filter((name) => name.startsWith('run-'))
      .map((name) => JSON.parse(readFileSync(join(controlDir, name), 'utf8')) as { pid: number; args: string[]; credentials: Record<string, string | null>; leaked: string[] });

  /** Each provider's access key: the stand-in writes findings of the account the key was tied to, the provider's own. */
  const accessKeys = new Map<string, string>();

  /** A provider with a static AWS secret: the engine refuses to scan a provider without credentials. */
  async function providerWithSecret(): Promise<string> {
    const { id: providerId, uid } = await awsProvider(owner.client);
    const accessKey = `${ACCESS_KEY_PREFIX}${String(accessKeys.size).padStart(4, '0')}`;
    accessKeys.set(providerId, accessKey);
    scanAccount(controlDir, accessKey, uid);
    const secret = await owner.client.post('/api/v1/providers/secrets', {
      data: {
        type: 'provider-secrets',
        attributes: { secret_type: 'static', secret: { aws_access_key_id: accessKey, aws_secret_access_key: SECRET_KEY } },
        relationships: { provider: { data: { type: 'providers', id: providerId } } },
      },
    });
    assert.equal(secret.status, 201, JSON.stringify(secret.body));
    return providerId;
  }

  async function startScan(providerId: string, name?: string): Promise<{ taskId: string; scanId: string }> {
    const accepted = await owner.client.post('/api/v1/scans', {
      data: { type: 'scans', attributes: name ? { name } : {}, relationships: { provider: { data: { type: 'providers', id: providerId } } } },
    });
    assert.equal(accepted.status, 202, JSON.stringify(accepted.body));
    assert.equal(accepted.headers.get('content-location'), `/api/v1/tasks/${accepted.body.data.id}`);
    return { taskId: accepted.body.data.id, scanId: accepted.body.data.attributes.task_args.scan_id };
  }

  async function scanRow(scanId: string) {
    const [row] = await adminRows<{ state: string; started_at: Date | null; completed_at: Date | null }>(
      `SELECT state, started_at, completed_at FROM scans WHERE id = $1`,
      [scanId],
    );
    return row;
  }

  it('runs the executable with the decrypted credentials in its environment only, and ingests what it wrote', async () => {
    const providerId = await providerWithSecret();
    const accessKey = accessKeys.get(providerId)!;
    const { taskId, scanId } = await startScan(providerId, 'nightly');
    const task = await waitForTaskEnd(taskId, 30000);
    assert.equal(task.state, 'completed', JSON.stringify(task.result));
    assert.equal(task.result.findings, 5);

    const run = runs().find((r) => r.credentials.AWS_ACCESS_KEY_ID === accessKey);
    assert.ok(run, 'the stand-in saw the credentials in its environment');
    assert.equal(run.credentials.AWS_SECRET_ACCESS_KEY, SECRET_KEY);
    assert.equal(run.args[0], 'aws');
    assert.ok(run.args.includes('json-ocsf'));
    assert.ok(!run.args.join(' ').includes(accessKey) && !run.args.join(' ').includes(SECRET_KEY), 'no credential on the command line');
    assert.deepEqual(run.leaked, [], 'none of the worker’s own secrets reach the child');

    const scan = await owner.client.get(`/api/v1/scans/${scanId}`);
    assert.equal(scan.body.data.attributes.state, 'completed');
    assert.equal(scan.body.data.attributes.trigger, 'manual');
    assert.equal(scan.body.data.attributes.unique_resource_count, 2);
    const findings = await owner.client.get(`/api/v1/findings?filter[scan]=${scanId}`);
    assert.equal(findings.body.meta.pagination.count, 5);
  });

  it('fails a scan whose credentials are of another account than the provider’s, and keeps none of its findings', async () => {
    const providerId = await providerWithSecret();
    scanAccount(controlDir, accessKeys.get(providerId)!, '999999999999');
    const { taskId, scanId } = await startScan(providerId);
    const task = await waitForTaskEnd(taskId, 30000);
    assert.equal(task.state, 'failed');
    assert.equal(task.result.outcome, 'invalid_file');
    assert.match(task.result.error, /record 0 '[^']+' \(line \d+\): account '999999999999', expected '\d{12}'/);
    assert.equal((await scanRow(scanId)).state, 'failed');
    const [stored] = await adminRows<{ n: number }>(`SELECT count(*)::int AS n FROM findings WHERE scan_id = $1`, [scanId]);
    assert.equal(stored.n, 0);
  });

  it('a failing run fails its scan with a fixed message and a reference; nothing Prowler printed reaches the tenant', async () => {
    const providerId = await providerWithSecret();
    writeFileSync(join(controlDir, 'fail'), '');
    try {
      const { taskId, scanId } = await startScan(providerId);
      const task = await waitForTaskEnd(taskId, 30000);
      assert.equal(task.state, 'failed');
      assert.equal(task.result.outcome, 'engine_failed');
      assert.match(task.result.error, /^The scan engine failed\. An administrator can find its output in the server log under reference [0-9a-f-]{36}\.$/);
      const seen = await owner.client.get(`/api/v1/tasks/${taskId}`);
      assert.equal(seen.body.data.attributes.result.error, task.result.error);
      assert.ok(!JSON.stringify(seen.body).includes('stand-in failed on purpose'), 'the stderr stays out of what the tenant reads');
      assert.ok(!JSON.stringify(task.result).includes(SECRET_KEY));
      assert.equal((await scanRow(scanId)).state, 'failed');
    } finally {
      rmSync(join(controlDir, 'fail'), { force: true });
    }
  });

  it('never runs Prowler for a provider without a secret (it would scan with the worker’s own identity)', async () => {
    const providerId = await createProvider(owner.client);
    const pids = new Set(runs().map((r) => r.pid));
    const { taskId, scanId } = await startScan(providerId);
    const task = await waitForTaskEnd(taskId, 30000);
    assert.equal(task.state, 'failed');
    assert.equal(task.result.outcome, 'secret_missing');
    assert.equal((await scanRow(scanId)).state, 'failed');
    assert.equal(runs().filter((r) => !pids.has(r.pid)).length, 0, 'the executable did not run');
  });

  it('a second scan of a provider waits until the first ends; another provider’s scan does not', async () => {
    const busy = await providerWithSecret();
    const other = await providerWithSecret();
    writeFileSync(hold, '');
    const first = await startScan(busy, 'first');
    await waitForTaskState(first.taskId, 'executing', 15000);
    const second = await startScan(busy, 'second');
    const elsewhere = await startScan(other, 'elsewhere');
    await waitForTaskState(elsewhere.taskId, 'executing', 15000);

    await sleep(1500);
    assert.equal((await taskRow(second.taskId)).state, 'available', 'the second scan waits');
    assert.equal((await scanRow(second.scanId)).state, 'available');
    assert.equal((await scanRow(second.scanId)).started_at, null);
    const [outbox] = await adminRows(`SELECT available_at = 'infinity' AS held FROM outbox WHERE job_id = $1`, [second.taskId]);
    assert.equal(outbox?.held, true, 'its job is held back in the outbox, not merely queued behind busy workers');

    rmSync(hold);
    const firstDone = await waitForTaskEnd(first.taskId, 30000);
    const secondDone = await waitForTaskEnd(second.taskId, 30000);
    assert.equal(firstDone.state, 'completed', JSON.stringify(firstDone.result));
    assert.equal(secondDone.state, 'completed', JSON.stringify(secondDone.result));
    assert.equal((await waitForTaskEnd(elsewhere.taskId, 30000)).state, 'completed');
    const firstScan = await scanRow(first.scanId);
    const secondScan = await scanRow(second.scanId);
    assert.ok(secondScan.started_at! >= firstScan.completed_at!, 'the second started only after the first completed');
  });

  it('a waiting scan cancelled ends at once and never runs; the one behind it still does', async () => {
    const providerId = await providerWithSecret();
    writeFileSync(hold, '');
    const running = await startScan(providerId);
    await waitForTaskState(running.taskId, 'executing', 15000);
    const dropped = await startScan(providerId);
    const behind = await startScan(providerId);

    const cancelled = await owner.client.delete(`/api/v1/tasks/${dropped.taskId}`);
    assert.equal(cancelled.status, 202, JSON.stringify(cancelled.body));
    assert.equal(cancelled.body.data.attributes.state, 'cancelled');
    assert.equal((await scanRow(dropped.scanId)).state, 'cancelled');
    assert.equal((await adminRows(`SELECT 1 FROM outbox WHERE job_id = $1`, [dropped.taskId])).length, 0);
    assert.equal((await taskRow(behind.taskId)).state, 'available', 'still behind the running scan');

    rmSync(hold);
    assert.equal((await waitForTaskEnd(running.taskId, 30000)).state, 'completed');
    assert.equal((await waitForTaskEnd(behind.taskId, 30000)).state, 'completed');
    assert.equal((await taskRow(dropped.taskId)).attempts, 0, 'the cancelled scan never ran');
  });

  it('a cancel kills the running executable, and the waiting scan starts', async () => {
    const providerId = await providerWithSecret();
    writeFileSync(hold, '');
    const known = new Set(runs().map((r) => r.pid));
    const running = await startScan(providerId);
    const run = await waitFor('the stand-in to start', async () => runs().find((r) => !known.has(r.pid) && r.args.includes('aws')));
    const waiting = await startScan(providerId);

    const cancelled = await owner.client.delete(`/api/v1/tasks/${running.taskId}`);
    assert.equal(cancelled.status, 202, JSON.stringify(cancelled.body));
    assert.equal((await waitForTaskEnd(running.taskId, 15000)).state, 'cancelled');
    await waitFor('the stand-in to be killed', async () => !isAlive(run.pid), 10000);
    assert.equal((await scanRow(running.scanId)).state, 'cancelled');

    await waitForTaskState(waiting.taskId, 'executing', 15000);
    rmSync(hold);
    assert.equal((await waitForTaskEnd(waiting.taskId, 30000)).state, 'completed');
  });

  it('a scan settled as lost while its job still runs: the waiting scan starts, the late results are rolled back', async () => {
    const providerId = await providerWithSecret();
    writeFileSync(hold, '');
    const lost = await startScan(providerId);
    await waitForTaskState(lost.taskId, 'executing', 15000);
    const waiting = await startScan(providerId);
    await sleep(500);
    assert.equal((await taskRow(waiting.taskId)).state, 'available');

    // What the sweep does for a task whose worker is gone (StaleTaskSweeper.sweep): it ends the task, and its scan, as worker_lost.
    const database = app.app.get(TenantDatabase);
    const tasks = app.app.get(TasksRepository);
    await database.transaction(owner.tenantId, () => tasks.finish(lost.taskId, 'failed', { outcome: 'worker_lost', error: 'test' }));
    await waitForTaskState(waiting.taskId, 'executing', 15000);

    rmSync(hold);
    assert.equal((await waitForTaskEnd(waiting.taskId, 30000)).state, 'completed');
    assert.equal((await scanRow(lost.scanId)).state, 'failed');
    // The lost job runs on beside the waiting one, and removes what it wrote once its publication is refused:
    // it holds the scan's run lock (withScanRunLock) until then.
    await waitFor('the lost scan’s job to end', async () => {
      const held = await adminRows(
        `SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND ((classid::bigint << 32) | objid::bigint) = hashtextextended($1, 0)`,
        [scanRunLockKey(lost.scanId)],
      );
      return held.length === 0;
    });
    const [findings] = await adminRows<{ n: number }>(`SELECT count(*)::int AS n FROM findings WHERE scan_id = $1`, [lost.scanId]);
    assert.equal(findings.n, 0, 'the lost scan’s late results were rolled back, not stored');
  });
});

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return existsSync(`/proc/${pid}`) && !readFileSync(`/proc/${pid}/stat`, 'utf8').split(' ')[2].startsWith('Z');
  } catch {
    return false;
  }
}
