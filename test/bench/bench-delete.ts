import { parseArgs } from 'node:util';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { rlsTransaction } from '../../src/database/rls-transaction';
import { INGESTION_BATCH_SIZE } from '../../src/findings/ingestion/ingestion-record';
import { ingestBatch } from '../../src/findings/ingestion/ingest-batch';
import { publishScan } from '../../src/findings/ingestion/scan-publication';
import { IngestionRecord, IngestionScan } from '../../src/findings/ingestion/ingestion-record';
import { partitionsOfMonth } from '../../src/findings/storage/finding-partitions';
import { startApiProcess } from '../support/api-process';
import { createBenchEnvironment } from '../support/bench-database';
import { aggregate, appDataSource, ensurePartitionsSince, insertCompletedScan, insertProviderRow } from '../support/bench-ingestion';
import { batches, generateRecords } from '../support/finding-generator';
import { signUp } from '../support/http-client';
import { deleteProviderUnderLoad } from '../support/provider-deletion';
import { load } from '../support/load';
import { spawnWorker } from '../support/tasks-fixture';

/**
 * `npm run bench:delete [-- --findings N]`: a fresh database where one
 * tenant's provider holds FINDINGS findings (two scans) and another tenant
 * holds OTHER_FINDINGS, ingested in alternating batches so the two share
 * heap pages, as tenants do. The API and a worker run as their own
 * processes. Under CONNECTIONS connections on the other tenant's filtered
 * findings page, it measures that page before the deletion, during it (from
 * DELETE /providers/{id} until the deletion task completes, its VACUUM
 * included) and after it, and how long the deletion took.
 */
const { values: flags } = parseArgs({ options: { findings: { type: 'string' }, other: { type: 'string' } } });
const FINDINGS = Number(flags.findings ?? process.env.BENCH_FINDINGS ?? 200_000);
const OTHER_FINDINGS = Number(flags.other ?? process.env.BENCH_OTHER_FINDINGS ?? FINDINGS);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 8);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const SCANS = 2;
const QUERY = 'filter[severity__in]=critical,high&filter[status]=FAIL&page[size]=50';

async function main(): Promise<void> {
  if (![FINDINGS, OTHER_FINDINGS].every((n) => Number.isInteger(n) && n >= SCANS)) throw new Error('--findings and --other must be integers of at least 2');
  const bench = await createBenchEnvironment('delete');
  const api = await startApiProcess(bench.env);
  const worker = await spawnWorker({ ...bench.env, LOG_LEVEL: 'warn' });
  const admin = new Client({ connectionString: bench.env.DATABASE_ADMIN_URL });
  await admin.connect();
  try {
    const victim = await signUp(api.baseUrl, 'bench-delete-victim');
    const reader = await signUp(api.baseUrl, 'bench-delete-reader');
    const victimProvider = await seed(admin, bench.env.DATABASE_URL, victim.tenantId, reader.tenantId);
    await admin.query('VACUUM ANALYZE');
    const heapBefore = await heapState(admin);

    const url = `${api.baseUrl}/api/v1/findings?${QUERY}`;
    const headers = { authorization: `Bearer ${reader.access}`, accept: 'application/vnd.api+json' };
    // A warm-up as long as a phase: prepared statements, plans and caches settle before anything is timed.
    await load(url, CONNECTIONS, SECONDS, headers);
    const before = await load(url, CONNECTIONS, SECONDS, headers);

    const { task, seconds: deletionSeconds, during } = await deleteProviderUnderLoad(
      admin,
      { baseUrl: api.baseUrl, token: victim.access, providerId: victimProvider },
      url,
      CONNECTIONS,
      headers,
    );
    const heapAfterDeletion = await heapState(admin);
    const after = await load(url, CONNECTIONS, SECONDS, headers);
    const checks = [before, during, after];
    if (checks.some((r) => r.errors > 0 || r.non2xx > 0)) throw new Error(`failed requests: ${JSON.stringify(checks)}`);

    process.stdout.write(
      JSON.stringify({
        bench: 'delete',
        findings: FINDINGS,
        other_findings: OTHER_FINDINGS,
        connections: CONNECTIONS,
        deletion_seconds: Number(deletionSeconds.toFixed(2)),
        vacuum_seconds: task.result.vacuum?.seconds ?? null,
        deleted: task.result.deleted,
        before,
        during,
        after,
        during_p99_ratio: ratio(during.p99_ms, before.p99_ms),
        after_p99_ratio: ratio(after.p99_ms, before.p99_ms),
        after_rps_ratio: ratio(after.rps, before.rps),
        heap_before: heapBefore,
        heap_after_deletion: heapAfterDeletion,
      }) + '\n',
    );
  } finally {
    await admin.end();
    worker.child.kill('SIGTERM');
    await worker.exited;
    await api.stop();
    await bench.cleanup();
  }
}

/**
 * The victim's provider with FINDINGS findings and the reader's with
 * OTHER_FINDINGS, each in SCANS scans, written through the real ingestion
 * batch in alternating batches; then aggregated. Returns the victim provider.
 */
async function seed(admin: Client, appUrl: string, victimTenant: string, readerTenant: string): Promise<string> {
  const app = await appDataSource(appUrl, 1);
  try {
    const firstStart = new Date(Date.now() - SCANS * 3600_000);
    await ensurePartitionsSince(admin, firstStart);
    const victimProvider = await insertProviderRow(admin, victimTenant, '111111111111');
    const readerProvider = await insertProviderRow(admin, readerTenant, '222222222222');
    const feeds: Array<{ scan: IngestionScan; batches: Iterator<IngestionRecord[]> }> = [];
    for (let s = 0; s < SCANS; s++) {
      for (const [tenantId, providerId, total, key] of [
        [victimTenant, victimProvider, FINDINGS, 'victim'],
        [readerTenant, readerProvider, OTHER_FINDINGS, 'reader'],
      ] as const) {
        const startedAt = new Date(firstStart.getTime() + s * 3600_000 + (key === 'victim' ? 0 : 1000));
        const scanId = await insertCompletedScan(admin, tenantId, providerId, startedAt);
        const records = generateRecords({ providerKey: key, count: Math.floor(total / SCANS), scanIndex: s });
        feeds.push({ scan: { tenantId, scanId, providerId, scanStartedAt: startedAt }, batches: batches(records, INGESTION_BATCH_SIZE)[Symbol.iterator]() });
      }
    }
    await ingestInterleaved(app, feeds.slice(0, 2));
    await ingestInterleaved(app, feeds.slice(2));
    for (const { scan } of feeds) {
      await rlsTransaction(app, scan.tenantId, (m) => publishScan(m, scan));
      await aggregate(app, scan.tenantId, scan.scanId);
    }
    return victimProvider;
  } finally {
    await app.destroy();
  }
}

/** One batch of each feed in turn until all are drained: their rows end up side by side in the heap. */
async function ingestInterleaved(app: DataSource, feeds: Array<{ scan: IngestionScan; batches: Iterator<IngestionRecord[]> }>): Promise<void> {
  let active = feeds;
  while (active.length > 0) {
    const next: typeof active = [];
    for (const feed of active) {
      const batch = feed.batches.next();
      if (batch.done) continue;
      await rlsTransaction(app, feed.scan.tenantId, (m) => ingestBatch(m, feed.scan, batch.value));
      next.push(feed);
    }
    active = next;
  }
}

/** Dead rows and the all-visible share of this month's findings partition, which the readers' index scans depend on. */
async function heapState(admin: Client): Promise<{ dead_tuples: number; all_visible_share: number }> {
  const [findings] = partitionsOfMonth(new Date());
  const { rows } = await admin.query(
    `SELECT s.n_dead_tup::int AS dead, c.relpages, c.relallvisible FROM pg_class c JOIN pg_stat_user_tables s ON s.relid = c.oid WHERE c.relname = $1`,
    [findings.name],
  );
  const { dead, relpages, relallvisible } = rows[0];
  return { dead_tuples: dead, all_visible_share: relpages > 0 ? Number((relallvisible / relpages).toFixed(3)) : 1 };
}

function ratio(a: number, b: number): number {
  return Number((a / Math.max(b, 1e-9)).toFixed(3));
}

main().catch((error) => {
  process.stderr.write(`bench:delete failed: ${(error as Error).stack}\n`);
  process.exit(1);
});
