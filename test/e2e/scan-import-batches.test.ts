import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import assert from 'node:assert/strict';
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { rlsTransaction } from '../../src/database/rls-transaction';
import { TenantDatabase } from '../../src/database/tenant-database';
import { FindingsIngestionService } from '../../src/findings/ingestion/findings-ingestion.service';
import { LocalAppModule } from '../../src/local-app.module';
import { ScanExecution, StartedScan } from '../../src/scans/execution/scan-execution.service';
import { SCAN_RUN_LOCK_RETRY_MS } from '../../src/scans/execution/scan-run-lock';
import { generateOcsfRecords, writeOcsfJsonArray } from '../../src/scans/ocsf/ocsf-generator';
import { RawOcsfFinding } from '../../src/scans/ocsf/ocsf-record';
import { CANCEL_REASON, JobOutcomeError } from '../../src/tasks/jobs/job-errors';
import { TenantJobContext } from '../../src/tasks/jobs/job-context';
import { adminClient } from '../support/database';
import { generateRecords } from '../support/finding-generator';
import { insertScan } from '../support/findings-fixtures';
import { signUp, SignedUpUser } from '../support/http-client';
import { awsProvider, newSpoolDir } from '../support/scans-fixture';
import { fastQueueEnv, pollTask, waitFor } from '../support/tasks-fixture';
import { startTestApp, TestApp } from '../support/test-app';

const BATCH_SIZE = 200;

/**
 * An OCSF import writes batch by batch, each batch in a transaction of its
 * own, and publishes the scan in one last transaction: readers see the whole
 * scan at once or nothing of it. The job's ingestion (ScanExecution) is
 * driven directly, with a job context whose progress callback runs between
 * two batches: that is where the test reads, as another request would.
 */
describe('scan imports in batches of their own transactions', () => {
  let app: TestApp;
  let admin: Client;
  let owner: SignedUpUser;
  let execution: ScanExecution;
  const spoolDir = newSpoolDir('import-batches');
  const files = mkdtempSync(join(tmpdir(), 'import-batches-'));

  before(async () => {
    app = await startTestApp(
      { ...fastQueueEnv('import-batches'), WORKERS_IN_PROCESS: 'true', SCAN_SPOOL_DIR: spoolDir, SCAN_INGESTION_BATCH_SIZE: String(BATCH_SIZE) },
      LocalAppModule,
    );
    admin = await adminClient();
    owner = await signUp(app.baseUrl, 'batches');
    execution = app.app.get(ScanExecution, { strict: false });
  });
  after(async () => {
    await admin.end();
    await app.close();
    rmSync(spoolDir, { recursive: true, force: true });
    rmSync(files, { recursive: true, force: true });
  });

  let fileNumber = 0;
  async function ocsfFile(records: Iterable<unknown>): Promise<string> {
    const path = join(files, `scan-${fileNumber++}.ocsf.json`);
    const out = createWriteStream(path);
    await writeOcsfJsonArray(records, out);
    await new Promise<void>((resolve, reject) => out.end((error?: Error | null) => (error ? reject(error) : resolve())));
    return path;
  }

  /** A scan row as the job finds it once begun, and its start as the job hands it on. */
  async function executingScan(provider: { id: string; uid: string }, startedAt = new Date(Date.now() - 60_000)): Promise<StartedScan> {
    const scanId = await insertScan(admin, owner.tenantId, provider.id, startedAt, 'executing');
    return { scanId, tenantId: owner.tenantId, providerId: provider.id, provider: 'aws', uid: provider.uid, startedAt };
  }

  function jobContext(between: (percent: number, abort: (reason: unknown) => void) => Promise<void> = async () => undefined): TenantJobContext {
    const database = app.app.get(TenantDatabase);
    const controller = new AbortController();
    return {
      jobId: 'import-batches',
      taskId: null,
      signal: controller.signal,
      attempt: 1,
      inTenant: (fn) => rlsTransaction(database.app, owner.tenantId, fn),
      progress: (percent) => between(percent, (reason) => controller.abort(reason)),
    };
  }

  async function count(sql: string, params: unknown[]): Promise<number> {
    return Number((await admin.query(sql, params)).rows[0].n);
  }

  /** What the stored state of a provider is, beyond what the API shows: totals, latest state, listings, resources. */
  async function storedState(providerId: string) {
    const one = async (sql: string) => (await admin.query(sql, [providerId])).rows;
    return {
      totals: await one(`SELECT status, severity, muted, delta, findings::int FROM finding_counts WHERE provider_id = $1 ORDER BY 1, 2, 3, 4`),
      latest: await one(`SELECT md5(string_agg(uid || last_scan_id || status, ',' ORDER BY uid)) AS digest, count(*)::int AS n FROM finding_latest WHERE provider_id = $1`),
      ingested: await one(`SELECT scan_id FROM scan_ingestions WHERE provider_id = $1 ORDER BY scan_id`),
      unpublished: await one(`SELECT scan_id FROM unpublished_scans WHERE provider_id = $1`),
      resources: await one(`SELECT count(*)::int AS n, count(*) FILTER (WHERE first_scan_id IN (SELECT scan_id FROM unpublished_scans))::int AS hidden FROM resources WHERE provider_id = $1`),
      tagLinks: await one(`SELECT count(*)::int AS n FROM resource_tag_links l JOIN resources r ON r.id = l.resource_id WHERE r.provider_id = $1`),
    };
  }

  /** What a reader of the API sees of a provider: findings (all and latest), resources, metadata and overviews. */
  async function readerView(providerId: string) {
    const get = async (path: string) => {
      const answer = await owner.client.get(path);
      assert.equal(answer.status, 200, `${path}: ${JSON.stringify(answer.body)}`);
      return answer.body;
    };
    const ids = (body: any) => body.data.map((d: { id: string }) => d.id);
    const findings = await get(`/api/v1/findings?filter[provider]=${providerId}&page[size]=100`);
    const latest = await get(`/api/v1/findings/latest?filter[provider]=${providerId}&page[size]=100`);
    const resources = await get(`/api/v1/resources?filter[provider]=${providerId}&page[size]=100`);
    const metadata = await get(`/api/v1/findings/metadata?filter[provider]=${providerId}`);
    const overview = await get(`/api/v1/overviews/findings?filter[provider_id]=${providerId}`);
    return {
      findings: { count: findings.meta.pagination.count, ids: ids(findings) },
      latest: { count: latest.meta.pagination.count, ids: ids(latest) },
      resources: { count: resources.meta.pagination.count, ids: ids(resources) },
      metadata: metadata.data.attributes,
      overview: overview.data.attributes,
    };
  }

  async function waitForFollowUps(scanId: string): Promise<void> {
    await waitFor(
      'the scan-overview job',
      async () => (await count(`SELECT count(*) AS n FROM tasks WHERE name = 'scan-overview' AND task_args->>'scanId' = $1 AND state = 'completed'`, [scanId])) === 1 || undefined,
      30000,
    );
  }

  function recordsOf(uid: string, count: number, seed = 5): RawOcsfFinding[] {
    return [...generateOcsfRecords({ providerType: 'aws', accountUid: uid, count, seed })];
  }

  it('writes batches in transactions of their own that no reader sees, and publishes them all at once', async () => {
    const provider = await awsProvider(owner.client);
    const first = await executingScan(provider, new Date(Date.now() - 3600_000));
    const firstRecords = recordsOf(provider.uid, 300);
    await execution.ingestFile(first, await ocsfFile(firstRecords), jobContext());
    await waitForFollowUps(first.scanId);
    const viewBefore = await readerView(provider.id);
    const storedBefore = await storedState(provider.id);
    assert.equal(viewBefore.findings.count, 300);

    // The same resources and checks and more; one in ten of the known findings changes status.
    const secondRecords = recordsOf(provider.uid, 2000).map((record, index) =>
      index < 300 && index % 10 === 0 ? { ...record, status_code: record.status_code === 'FAIL' ? 'PASS' : 'FAIL' } : record,
    );
    const second = await executingScan(provider);
    let checkedMidway = false;
    const result = await execution.ingestFile(
      second,
      await ocsfFile(secondRecords),
      jobContext(async () => {
        const written = await count(`SELECT count(*) AS n FROM findings WHERE scan_id = $1`, [second.scanId]);
        if (checkedMidway || written < 3 * BATCH_SIZE) return;
        checkedMidway = true;
        // Batches committed: another session sees their rows, from several transactions.
        assert.ok(written < secondRecords.length, `${written} findings written before the last batch`);
        const transactions = await count(`SELECT count(DISTINCT xmin::text) AS n FROM findings WHERE scan_id = $1`, [second.scanId]);
        assert.ok(transactions >= 3, `${transactions} transactions wrote the batches so far`);
        const storedMidway = await storedState(provider.id);
        assert.deepEqual(storedMidway.unpublished, [{ scan_id: second.scanId }]);
        assert.ok(storedMidway.resources[0].hidden > 0, 'resources only the new scan has seen are written, hidden');
        // Hidden resources get their tag links at once; everything else stored is as before.
        assert.deepEqual({ ...storedMidway, unpublished: [], resources: null, tagLinks: null }, { ...storedBefore, resources: null, tagLinks: null });
        // No reader sees any of it: findings, the latest findings, resources, metadata, overviews and counts are as before.
        assert.deepEqual(await readerView(provider.id), viewBefore);
        const byScan = await owner.client.get(`/api/v1/findings?filter[scan]=${second.scanId}`);
        assert.equal(byScan.status, 200);
        assert.equal(byScan.body.data.length, 0);
        const [{ id: hidden }] = (await admin.query(`SELECT id FROM findings WHERE scan_id = $1 LIMIT 1`, [second.scanId])).rows;
        assert.equal((await owner.client.get(`/api/v1/findings/${hidden}`)).status, 404);
      }),
    );
    assert.ok(checkedMidway, 'the reader looked while the import was under way');
    assert.equal(result.findings, 2000);

    // Published: everything shows at once, and delta was computed against the state before the scan.
    const storedAfter = await storedState(provider.id);
    assert.deepEqual(storedAfter.unpublished, []);
    assert.equal(storedAfter.resources[0].hidden, 0);
    assert.equal(storedAfter.latest[0].n, 2000);
    assert.equal(await count(`SELECT count(*) AS n FROM finding_latest WHERE provider_id = $1 AND last_scan_id = $2`, [provider.id, second.scanId]), 2000);
    assert.equal(storedAfter.totals.reduce((sum: number, row: { findings: number }) => sum + row.findings, 0), 2300);
    const deltas = await admin.query(`SELECT COALESCE(delta, 'none') AS delta, count(*)::int AS n FROM findings WHERE scan_id = $1 GROUP BY 1 ORDER BY 1`, [second.scanId]);
    assert.deepEqual(Object.fromEntries(deltas.rows.map((r) => [r.delta, r.n])), { changed: 30, new: 1700, none: 270 });
    const viewAfter = await readerView(provider.id);
    assert.equal(viewAfter.findings.count, 2300);
    assert.equal(viewAfter.latest.count, 2000);
    assert.ok(viewAfter.resources.count > viewBefore.resources.count);
    const [scanRow] = (await admin.query(`SELECT state, unique_resource_count FROM scans WHERE id = $1`, [second.scanId])).rows;
    assert.deepEqual(scanRow, { state: 'completed', unique_resource_count: viewAfter.resources.count });
  });

  for (const failure of ['a bad record', 'a cancel'] as const) {
    it(`${failure} after several committed batches removes everything the scan wrote`, async () => {
      const provider = await awsProvider(owner.client);
      const first = await executingScan(provider, new Date(Date.now() - 3600_000));
      await execution.ingestFile(first, await ocsfFile(recordsOf(provider.uid, 300)), jobContext());
      const storedBefore = await storedState(provider.id);

      const records = recordsOf(provider.uid, 1500);
      if (failure === 'a bad record') records.splice(1200, 0, { ...records[0], cloud: { ...(records[0].cloud as Record<string, unknown>), provider: 'gcp' } });
      const scan = await executingScan(provider);
      let writtenBeforeFailure = 0;
      const context = jobContext(async (_percent, abort) => {
        writtenBeforeFailure = await count(`SELECT count(*) AS n FROM findings WHERE scan_id = $1`, [scan.scanId]);
        if (failure === 'a cancel' && writtenBeforeFailure >= 3 * BATCH_SIZE) abort(CANCEL_REASON);
      });
      await assert.rejects(execution.ingestFile(scan, await ocsfFile(records), context), (error: Error) =>
        failure === 'a bad record' ? error instanceof JobOutcomeError && error.outcome === 'invalid_file' : context.signal.aborted,
      );
      assert.ok(writtenBeforeFailure >= 3 * BATCH_SIZE, `${writtenBeforeFailure} findings had been committed`);
      assert.equal(await count(`SELECT count(*) AS n FROM findings WHERE scan_id = $1`, [scan.scanId]), 0);
      assert.equal(await count(`SELECT count(*) AS n FROM resource_finding_links l JOIN findings f ON f.id = l.finding_id WHERE f.scan_id = $1`, [scan.scanId]), 0);
      assert.deepEqual(await storedState(provider.id), storedBefore, 'totals, latest state, listings, resources and tag links as before');
    });
  }

  it('a retried job starts clean: what an earlier attempt or a dead scan of the provider left goes, and the totals are those of one import', async () => {
    const provider = await awsProvider(owner.client);
    const ingestion = app.app.get(FindingsIngestionService);
    const database = app.app.get(TenantDatabase);
    const file = await ocsfFile(recordsOf(provider.uid, 900));

    // An import of the same file on a provider with nothing left behind gives the figures to expect.
    const clean = await awsProvider(owner.client);
    const reference = await execution.ingestFile(await executingScan(clean), await ocsfFile(recordsOf(clean.uid, 900)), jobContext());

    // An attempt of the scan, and a scan of the provider that ended without publishing, each wrote batches of other records and stopped.
    const scan = await executingScan(provider);
    const dead = await executingScan(provider, new Date(Date.now() - 7200_000));
    await admin.query(`UPDATE scans SET state = 'failed' WHERE id = $1`, [dead.scanId]);
    for (const [left, providerKey] of [[scan, 'attempt'], [dead, 'dead']] as const) {
      const ingestionScan = { tenantId: left.tenantId, scanId: left.scanId, providerId: left.providerId, scanStartedAt: left.startedAt };
      await ingestion.prepareScan(ingestionScan);
      await rlsTransaction(database.app, owner.tenantId, (m) => ingestion.ingestBatch(m, ingestionScan, [...generateRecords({ providerKey, count: 150 })]));
    }
    assert.equal(await count(`SELECT count(*) AS n FROM unpublished_scans WHERE provider_id = $1`, [provider.id]), 2);

    const retried = await execution.ingestFile(scan, file, jobContext());
    assert.deepEqual({ ...retried, scan_id: null }, { ...reference, scan_id: null });
    assert.equal(await count(`SELECT count(*) AS n FROM findings WHERE scan_id = $1`, [scan.scanId]), 900);
    assert.equal(await count(`SELECT count(*) AS n FROM findings WHERE scan_id = $1`, [dead.scanId]), 0);
    assert.equal(await count(`SELECT sum(findings) AS n FROM finding_counts WHERE provider_id = $1`, [provider.id]), 900);
    assert.equal(await count(`SELECT count(*) AS n FROM finding_latest WHERE provider_id = $1`, [provider.id]), 900);
    assert.equal(
      await count(`SELECT count(*) AS n FROM resources WHERE provider_id = $1`, [provider.id]),
      await count(`SELECT count(*) AS n FROM resources WHERE provider_id = $1`, [clean.id]),
    );
    assert.equal(await count(`SELECT count(*) AS n FROM unpublished_scans WHERE provider_id = $1`, [provider.id]), 0);
  });

  it('a second attempt of an import, started while the first still runs (a stalled worker lost its job), waits for it and keeps the scan whole', async () => {
    const provider = await awsProvider(owner.client);
    const file = await ocsfFile(recordsOf(provider.uid, 900));
    const scan = await executingScan(provider);
    let reachedBatch!: () => void;
    const firstWrote = new Promise<void>((resolve) => (reachedBatch = resolve));
    let resume!: () => void;
    const resumed = new Promise<void>((resolve) => (resume = resolve));
    // As both import handlers run an attempt.
    const attempt = (context: TenantJobContext) =>
      execution.exclusively(scan.scanId, context, async () => {
        const begun = await execution.begin(scan.scanId, context);
        return begun === 'completed' ? 'already stored' : execution.ingestFile(begun, file, context);
      });

    // The first attempt stops after a committed batch; the second starts then.
    const first = attempt(jobContext(async () => {
      reachedBatch();
      await resumed;
    }));
    await firstWrote;
    let secondEnded = false;
    const second = attempt(jobContext()).finally(() => (secondEnded = true));
    try {
      await sleep(4 * SCAN_RUN_LOCK_RETRY_MS);
      assert.equal(secondEnded, false, 'the second attempt waits for the first');
    } finally {
      resume();
    }
    const [firstResult, secondResult] = await Promise.all([first, second]);
    assert.equal(typeof firstResult === 'object' && firstResult.findings, 900);
    assert.equal(secondResult, 'already stored');
    assert.equal(await count(`SELECT count(*) AS n FROM findings WHERE scan_id = $1`, [scan.scanId]), 900);
    assert.equal(await count(`SELECT sum(findings) AS n FROM finding_counts WHERE provider_id = $1`, [provider.id]), 900);
    assert.equal((await readerView(provider.id)).findings.count, 900);

    // A waiting attempt still answers its job's signal (cancel, time limit, shutdown), and a lock ends with its holder.
    let holding!: () => void;
    const holds = new Promise<void>((resolve) => (holding = resolve));
    let release!: () => void;
    const holder = execution.exclusively(scan.scanId, jobContext(), () => {
      holding();
      return new Promise<string>((resolve) => (release = () => resolve('held')));
    });
    await holds;
    const waiting = new AbortController();
    const cancelled = execution.exclusively(scan.scanId, { ...jobContext(), signal: waiting.signal }, async () => 'ran');
    try {
      await sleep(2 * SCAN_RUN_LOCK_RETRY_MS);
      waiting.abort(CANCEL_REASON);
      await assert.rejects(cancelled, (error) => error === CANCEL_REASON);
    } finally {
      release();
    }
    assert.equal(await holder, 'held');
    assert.equal(await execution.exclusively(scan.scanId, jobContext(), async () => 'ran'), 'ran');
  });

  it('a provider deletion removes the rows of its unpublished scans too', async () => {
    const provider = await awsProvider(owner.client);
    await execution.ingestFile(await executingScan(provider, new Date(Date.now() - 3600_000)), await ocsfFile(recordsOf(provider.uid, 300)), jobContext());
    const unpublished = await executingScan(provider);
    const ingestion = app.app.get(FindingsIngestionService);
    const scan = { tenantId: owner.tenantId, scanId: unpublished.scanId, providerId: provider.id, scanStartedAt: unpublished.startedAt };
    await rlsTransaction(app.app.get(TenantDatabase).app, owner.tenantId, (m) => ingestion.ingestBatch(m, scan, [...generateRecords({ providerKey: 'doomed', count: 150 })]));

    const accepted = await owner.client.delete(`/api/v1/providers/${provider.id}`);
    assert.equal(accepted.status, 202, JSON.stringify(accepted.body));
    const done = await pollTask(owner.client, accepted.body.data.id, 60000);
    assert.equal(done.attributes.state, 'completed', JSON.stringify(done.attributes.result));
    assert.equal(await count(`SELECT count(*) AS n FROM findings WHERE scan_id = $1`, [unpublished.scanId]), 0);
    assert.equal(await count(`SELECT count(*) AS n FROM unpublished_scans WHERE scan_id = $1`, [unpublished.scanId]), 0);
    assert.equal(await count(`SELECT count(*) AS n FROM resources WHERE provider_id = $1`, [provider.id]), 0);
  });
});
