import { createReadStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import type { EntityManager } from 'typeorm';
import { rlsTransaction } from '../../src/database/rls-transaction';
import * as sql from '../../src/database/sql';
import { INGESTION_BATCH_SIZE } from '../../src/findings/ingestion/ingestion-record';
import { writeBatch } from '../../src/findings/ingestion/ingest-batch';
import * as ingestionSql from '../../src/findings/ingestion/ingestion-sql';
import { publishScan } from '../../src/findings/ingestion/scan-publication';
import { aggregateScan } from '../../src/findings/overviews/scan-aggregation';
import { analyzeOutgrownPartitions } from '../../src/findings/storage/finding-partitions';
import * as searchWords from '../../src/findings/query/search-word-ranges';
import * as staging from '../../src/findings/ingestion/staging-tables';
import { forEachEncodedBatch } from '../../src/scans/execution/encoded-ocsf-batches';
import { encodingCollector } from '../../src/scans/execution/encoding-collector';
import { generateOcsfRecords } from '../../src/scans/ocsf/ocsf-generator';
import { readOcsf } from '../../src/scans/ocsf/ocsf-stream-reader';
import { createBenchEnvironment } from '../support/bench-database';
import { writeGzippedOcsfFile } from '../support/gzipped-ocsf-file';
import { appDataSource, clientRunner, insertCompletedScan, insertProviderRow, insertTenant } from '../support/bench-ingestion';

/**
 * `npm run bench:ingest-profile`: where an OCSF file import's time goes.
 * Imports a gzipped file of BENCH_FINDINGS findings as the job does
 * (encoding thread, one transaction) on an empty database and prints one
 * JSON line: seconds per statement of the batch path (summed over batches),
 * seconds the writing thread waited for the encoding thread, seconds the
 * reading and encoding take alone on one thread, the WAL the import wrote
 * against the WAL of its findings rows alone (copied into a table without
 * row-level security), and the tables' sizes; then what follows an import:
 * the scan's publication, the ANALYZE of its month partitions that the
 * overview job runs first (their statistics predate the scan), and its
 * aggregation, of which the recording of its words for text searches apart. PROFILE_BATCH_SIZE sets the
 * batch size; PROFILE_EXPLAIN_BATCH=n prints the plans of the n-th batch's
 * statements (EXPLAIN ANALYZE, BUFFERS) to stderr. Run the built file under
 * `node --cpu-prof` for the Node side.
 */
const FINDINGS = Number(process.env.BENCH_FINDINGS ?? 100_000);
const ACCOUNT = '210987654321';
const BATCH_SIZE = Number(process.env.PROFILE_BATCH_SIZE ?? INGESTION_BATCH_SIZE);

const seconds: Record<string, number> = {};
function charge(label: string, since: bigint): void {
  seconds[label] = (seconds[label] ?? 0) + Number(process.hrtime.bigint() - since) / 1e9;
}

/** Names each batch statement by its export in ingestion-sql.ts. */
const statementLabels = new Map<string, string>(Object.entries(ingestionSql).map(([name, text]) => [text as string, name]));

function timed<F extends (...args: never[]) => Promise<unknown>>(label: (...args: Parameters<F>) => string, run: F): F {
  return (async (...args: Parameters<F>) => {
    const start = process.hrtime.bigint();
    try {
      return await run(...args);
    } finally {
      charge(label(...args), start);
    }
  }) as F;
}

/**
 * With PROFILE_EXPLAIN_BATCH=n, the n-th batch's statements also run under
 * EXPLAIN (ANALYZE, BUFFERS), their plans to stderr: each inside a savepoint
 * rolled back before the statement runs for real, so the batch goes on with
 * the results it needs (their times then include the explained run).
 */
const EXPLAIN_BATCH = process.env.PROFILE_EXPLAIN_BATCH === undefined ? -1 : Number(process.env.PROFILE_EXPLAIN_BATCH);
let currentBatch = 0;

function explained<R>(run: (m: EntityManager, text: string, params?: unknown[]) => Promise<R>) {
  return async (m: EntityManager, text: string, params?: unknown[]): Promise<R> => {
    const label = statementOf(m, text);
    if (currentBatch !== EXPLAIN_BATCH || label === 'other') return run(m, text, params);
    await m.query('SAVEPOINT profile_explain');
    const plan = await plainRows<{ 'QUERY PLAN': string }>(m, `EXPLAIN (ANALYZE, BUFFERS) ${text}`, params);
    await m.query('ROLLBACK TO SAVEPOINT profile_explain');
    process.stderr.write(`--- ${label}\n${plan.map((line) => line['QUERY PLAN']).join('\n')}\n`);
    return run(m, text, params);
  };
}

// The batch path calls these through their modules' exports, so replacing the exports times every call.
const mutableSql = sql as { rows: typeof sql.rows; affected: typeof sql.affected; inserted: typeof sql.inserted };
const statementOf = (_m: EntityManager, text: string): string => statementLabels.get(text) ?? 'other';
const plainRows = sql.rows;
mutableSql.rows = timed(statementOf, explained(plainRows) as typeof sql.rows);
mutableSql.affected = timed(statementOf, explained(sql.affected));
mutableSql.inserted = timed(statementOf, explained(sql.inserted));
const mutableStaging = staging as { prepareStaging: typeof staging.prepareStaging; copyStage: typeof staging.copyStage };
mutableStaging.prepareStaging = timed(() => 'prepareStaging', mutableStaging.prepareStaging);
mutableStaging.copyStage = timed(() => 'copyStage', mutableStaging.copyStage);
const mutableWords = searchWords as { recordSearchWords: typeof searchWords.recordSearchWords };
mutableWords.recordSearchWords = timed(() => 'recordSearchWords', mutableWords.recordSearchWords);

async function main(): Promise<void> {
  const bench = await createBenchEnvironment('ingest_profile');
  const admin = new Client({ connectionString: bench.env.DATABASE_ADMIN_URL });
  await admin.connect();
  const app = await appDataSource(bench.env.DATABASE_URL, 1);
  const dir = mkdtempSync(join(tmpdir(), 'profile-ingest-'));
  try {
    const tenantId = await insertTenant(admin, 'profile ingest');
    const providerId = await insertProviderRow(admin, tenantId, ACCOUNT);
    const file = join(dir, 'scan.ocsf.json.gz');
    await writeGzippedOcsfFile(file, generateOcsfRecords({ providerType: 'aws', accountUid: ACCOUNT, count: FINDINGS, seed: 5 }));
    const startedAt = new Date(Date.now() - 60_000);
    const scan = { tenantId, providerId, scanStartedAt: startedAt, scanId: await insertCompletedScan(admin, tenantId, providerId, startedAt) };
    await admin.query('VACUUM ANALYZE');

    const walBefore = await walLsn(admin);
    const start = process.hrtime.bigint();
    let writing = 0n;
    let batches = 0;
    let callbackEnd = 0n;
    await rlsTransaction(app, tenantId, async (m) => {
      await forEachEncodedBatch(file, { expectedProvider: 'aws', expectedAccount: ACCOUNT, batchSize: BATCH_SIZE }, scan, async (batch) => {
        const batchStart = process.hrtime.bigint();
        await writeBatch(m, scan, batch.encoded);
        writing += process.hrtime.bigint() - batchStart;
        batches++;
        currentBatch = batches;
      });
      callbackEnd = process.hrtime.bigint();
    });
    const end = process.hrtime.bigint();
    const total = Number(end - start) / 1e9;
    seconds.commit = Number(end - callbackEnd) / 1e9;
    const importWal = (await walLsn(admin)) - walBefore;
    const importStatements = Object.fromEntries(Object.entries(seconds).map(([k, v]) => [k, v]));

    // What follows: publication, then the aggregation the overview queue runs for the scan.
    const publicationStart = process.hrtime.bigint();
    await rlsTransaction(app, tenantId, (m) => publishScan(m, scan));
    const publication = Number(process.hrtime.bigint() - publicationStart) / 1e9;
    // As the overview job does: the scan's month partitions analyzed first when the scan outgrew their statistics.
    const statisticsStart = process.hrtime.bigint();
    const analyzed = await analyzeOutgrownPartitions(clientRunner(admin), scan.scanStartedAt);
    const statistics = Number(process.hrtime.bigint() - statisticsStart) / 1e9;
    const aggregationStart = process.hrtime.bigint();
    await rlsTransaction(app, tenantId, (m) => aggregateScan(m, scan.scanId));
    const aggregation = Number(process.hrtime.bigint() - aggregationStart) / 1e9;

    const copyWalBefore = await walLsn(admin);
    await admin.query(`CREATE TABLE plain_findings (LIKE findings INCLUDING DEFAULTS INCLUDING GENERATED INCLUDING CONSTRAINTS INCLUDING INDEXES)`);
    // The same rows again, into a table without row-level security, staging or side tables: WAL for the findings alone.
    const columns = `id, tenant_id, scan_id, provider_id, uid, check_id, check_title, status, status_extended, severity, delta, muted,
                     muted_reason, first_seen_at, service, region, resource_type, resource_uid, compliance, inserted_at, updated_at`;
    await admin.query(`INSERT INTO plain_findings (${columns}) SELECT ${columns} FROM findings`);
    const copyWal = (await walLsn(admin)) - copyWalBefore;

    // What the encoding thread does for the whole file, alone on this thread: how close it comes to being the bound.
    const encodeStart = process.hrtime.bigint();
    const reader = readOcsf(createReadStream(file), { expectedProvider: 'aws', expectedAccount: ACCOUNT, batchSize: BATCH_SIZE }, encodingCollector(scan, null));
    for (let next = await reader.next(); !next.done; next = await reader.next());
    const encodingOnly = Number(process.hrtime.bigint() - encodeStart) / 1e9;

    const rounded = (n: number) => Number(n.toFixed(3));
    process.stdout.write(
      JSON.stringify({
        bench: 'ingest-profile',
        findings: FINDINGS,
        batch_size: BATCH_SIZE,
        batches,
        total_s: rounded(total),
        writing_s: rounded(Number(writing) / 1e9),
        encoding_alone_s: rounded(encodingOnly),
        waiting_for_encoding_s: rounded(total - seconds.commit - Number(writing) / 1e9),
        statements_s: Object.fromEntries(Object.entries(importStatements).map(([k, v]) => [k, rounded(v)])),
        publication_s: rounded(publication),
        statistics_s: rounded(statistics),
        partitions_analyzed: analyzed,
        aggregation_s: rounded(aggregation),
        of_which_search_words_s: rounded(seconds.recordSearchWords ?? 0),
        import_wal_mb: rounded(importWal / 2 ** 20),
        findings_rows_only_wal_mb: rounded(copyWal / 2 ** 20),
        table_mb: await tableSizes(admin),
      }) + '\n',
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await app.destroy();
    await admin.end();
    await bench.cleanup();
  }
}

async function walLsn(admin: Client): Promise<number> {
  const { rows } = await admin.query(`SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::float8 AS lsn`);
  return rows[0].lsn as number;
}

async function tableSizes(admin: Client): Promise<Record<string, { heap: number; indexes: number }>> {
  const { rows } = await admin.query(
    `SELECT c.relname AS name, pg_relation_size(c.oid) AS heap, pg_indexes_size(c.oid) AS indexes
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = 'public' AND c.relkind = 'r' AND pg_relation_size(c.oid) > 1048576 ORDER BY 2 DESC`,
  );
  return Object.fromEntries(rows.map((r) => [r.name, { heap: Number((r.heap / 2 ** 20).toFixed(1)), indexes: Number((r.indexes / 2 ** 20).toFixed(1)) }]));
}

main().catch((error) => {
  process.stderr.write(`bench:ingest-profile failed: ${(error as Error).stack}\n`);
  process.exit(1);
});
