import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import type { DataSource } from 'typeorm';
import { rlsTransaction } from '../../src/database/rls-transaction';
import { CopyTextBuffer, copyWithClient } from '../../src/findings/ingestion/copy-from-stdin';
import { findingIdsOf } from '../../src/findings/storage/finding-ids';
import { INGESTION_BATCH_SIZE } from '../../src/findings/ingestion/ingestion-record';
import { writeBatch } from '../../src/findings/ingestion/ingest-batch';
import { publishScan } from '../../src/findings/ingestion/scan-publication';
import { muteRecords } from '../../src/processors/mutelist/mute-records';
import { MutelistDocument } from '../../src/processors/mutelist/mutelist-document';
import { CompiledMutelist } from '../../src/processors/mutelist/mutelist-matcher';
import { IngestionRecord, IngestionScan } from '../../src/findings/ingestion/ingestion-record';
import { generateOcsfRecords } from '../../src/scans/ocsf/ocsf-generator';
import { normaliseOcsfFinding, OcsfRecord, RawOcsfFinding } from '../../src/scans/ocsf/ocsf-record';
import { forEachEncodedBatch } from '../../src/scans/execution/encoded-ocsf-batches';
import { createBenchEnvironment } from '../support/bench-database';
import { writeGzippedOcsfFile } from '../support/gzipped-ocsf-file';
import { appDataSource, ingestRecords, insertCompletedScan, insertProviderRow, insertTenant } from '../support/bench-ingestion';
import { generateRecords } from '../support/finding-generator';
import { median } from '../support/median';

/**
 * `npm run bench:ingest`: findings per second through the batch path
 * (staging COPY + INSERT … SELECT under RLS, with resources, links, latest
 * state and totals) from records already in memory, and as an import reads
 * them (a gzipped OCSF file read and encoded on the import's worker thread,
 * each batch written in its own transaction, then the scan published), beside a plain COPY of the same number of
 * finding rows into an unprotected table without RLS. The import runs a
 * second time with a Mutelist of 1,000 entries (MUTELIST_ENTRIES), as a
 * tenant's would apply: `mutelist_cost` is the share of the import's rate it
 * takes. Rounds repeat the four, each on emptied tables, in a rotating order; each
 * ratio is the median of the rounds' own ratios, so drift in the machine's
 * load affects both sides alike.
 */
const FINDINGS = Number(process.env.BENCH_FINDINGS ?? 100_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const IMPORT_ACCOUNT = '210987654321';
const MUTELIST_ENTRIES = Number(process.env.BENCH_MUTELIST_ENTRIES ?? 1000);

/** What a side writes, emptied before the next one so every side starts alike. */
const ROUND_TABLES = ['findings', 'resource_finding_links', 'resources', 'resource_tags', 'resource_tag_links', 'finding_latest', 'finding_counts', 'finding_versions', 'scan_ingestions', 'unpublished_scans', 'plain_findings'];

type Side = 'ingest' | 'import' | 'mutelist' | 'copy';

async function main(): Promise<void> {
  const bench = await createBenchEnvironment('ingest');
  const admin = new Client({ connectionString: bench.env.DATABASE_ADMIN_URL });
  await admin.connect();
  const app = await appDataSource(bench.env.DATABASE_URL, 1);
  const dir = mkdtempSync(join(tmpdir(), 'bench-ingest-'));
  try {
    const tenantId = await insertTenant(admin, 'bench ingest');
    const providerId = await insertProviderRow(admin, tenantId, '123456789012');
    const importProvider = await insertProviderRow(admin, tenantId, IMPORT_ACCOUNT);
    const records = [...generateRecords({ providerKey: 'bench', count: FINDINGS })];
    const file = join(dir, 'scan.ocsf.json.gz');
    await writeGzippedOcsfFile(file, generateOcsfRecords({ providerType: 'aws', accountUid: IMPORT_ACCOUNT, count: FINDINGS, seed: 5 }));
    const mutelist = benchMutelist([...generateOcsfRecords({ providerType: 'aws', accountUid: IMPORT_ACCOUNT, count: 5000, seed: 5 })]);
    let mutedByList = 0;
    await admin.query(`CREATE TABLE plain_findings (LIKE findings INCLUDING DEFAULTS INCLUDING GENERATED INCLUDING CONSTRAINTS INCLUDING INDEXES)`);

    const seconds: Record<Side, number[]> = { ingest: [], import: [], mutelist: [], copy: [] };
    const sides: Side[] = ['ingest', 'import', 'mutelist', 'copy'];
    for (let round = 0; round < ROUNDS; round++) {
      const turn = round % sides.length;
      for (const side of [...sides.slice(turn), ...sides.slice(0, turn)]) {
        // Every side starts from emptied tables: the two imports then do the same work but for the Mutelist.
        await admin.query(`TRUNCATE ${ROUND_TABLES.join(', ')}`);
        await admin.query('VACUUM ANALYZE');
        const imports = side === 'import' || side === 'mutelist';
        const startedAt = new Date(Date.now() - (ROUNDS - round) * 60_000 - sides.indexOf(side) * 1000);
        const scan = { tenantId, providerId: imports ? importProvider : providerId, scanStartedAt: startedAt, scanId: '' };
        scan.scanId = await insertCompletedScan(admin, tenantId, scan.providerId, startedAt);
        const start = process.hrtime.bigint();
        const written =
          side === 'ingest'
            ? await ingestRecords(app, scan, records)
            : imports
              ? await importFile(app, scan, file, side === 'mutelist' ? mutelist : null)
              : await plainCopy(admin, records, scan);
        seconds[side].push(Number(process.hrtime.bigint() - start) / 1e9);
        if (written !== FINDINGS) throw new Error(`${side} wrote ${written} of ${FINDINGS}`);
        if (side === 'mutelist') {
          mutedByList = Number((await admin.query(`SELECT count(*) AS n FROM findings WHERE scan_id = $1 AND muted_reason IS NOT NULL`, [scan.scanId])).rows[0].n);
          if (mutedByList === 0) throw new Error('the Mutelist muted nothing: it was not applied');
        }
      }
    }

    const matchSeconds = matchOnly(mutelist);
    const rate = (side: Side) => Math.round(FINDINGS / median(seconds[side]));
    const ratio = (side: Side) => Number(median(seconds[side].map((s, round) => seconds.copy[round] / s)).toFixed(3));
    process.stdout.write(
      JSON.stringify({
        bench: 'ingest',
        findings: FINDINGS,
        rounds: ROUNDS,
        ingest_findings_per_s: rate('ingest'),
        import_findings_per_s: rate('import'),
        plain_copy_findings_per_s: rate('copy'),
        import_mutelist_findings_per_s: rate('mutelist'),
        mutelist_entries: MUTELIST_ENTRIES,
        mutelist_muted: mutedByList,
        // The matching alone (compiling included), in this thread, over the same records.
        mutelist_match_per_s: Math.round(FINDINGS / matchSeconds),
        ratio: ratio('ingest'),
        import_ratio: ratio('import'),
        // The share of the import's rate the Mutelist takes (goal at most 0.10).
        mutelist_cost: Number((1 - median(seconds.import.map((s, round) => s / seconds.mutelist[round]))).toFixed(3)),
        seconds,
      }) + '\n',
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await app.destroy();
    await admin.end();
    await bench.cleanup();
  }
}

/**
 * An import as the scan-import job runs it: the worker thread reads, mutes
 * and encodes, this one writes each batch in a transaction of its own, then
 * publishes the scan in one more.
 */
async function importFile(app: DataSource, scan: IngestionScan, file: string, mutelist: MutelistDocument | null): Promise<number> {
  let written = 0;
  await forEachEncodedBatch(file, { mutelist, expectedProvider: 'aws', expectedAccount: IMPORT_ACCOUNT, batchSize: INGESTION_BATCH_SIZE }, scan, async (batch) => {
    written += (await rlsTransaction(app, scan.tenantId, (m) => writeBatch(m, scan, batch.encoded))).findingsInserted;
  });
  await rlsTransaction(app, scan.tenantId, (m) => publishScan(m, scan));
  return written;
}

/** Seconds to compile the Mutelist and ask it about every record of the file (median of three), without reading or writing. */
function matchOnly(mutelist: MutelistDocument): number {
  const records: OcsfRecord[] = [];
  for (const raw of generateOcsfRecords({ providerType: 'aws', accountUid: IMPORT_ACCOUNT, count: FINDINGS, seed: 5 })) {
    const { record } = normaliseOcsfFinding(raw);
    if (record) records.push(record);
  }
  const runs = [0, 1, 2].map(() => {
    const start = process.hrtime.bigint();
    const muted = muteRecords(new CompiledMutelist(mutelist), records).filter((r) => r.mutedReason).length;
    if (muted === 0) throw new Error('the Mutelist muted nothing');
    return Number(process.hrtime.bigint() - start) / 1e9;
  });
  return median(runs);
}

/**
 * A Mutelist of MUTELIST_ENTRIES entries as a tenant might keep: five account
 * sections ("*", the imported account, three others), each entry one check
 * of the file's (a name, or a pattern) with a region, a resource pattern, and
 * for some a tag or an exception. About one finding in a hundred matches.
 */
function benchMutelist(sample: RawOcsfFinding[]): MutelistDocument {
  const checks = [...new Set(sample.map((f) => String((f.metadata as { event_code: string }).event_code)))];
  const resources = sample.map((f) => (f.resources as Array<{ uid: string; name: string; region: string }>)[0]);
  const accounts = ['*', IMPORT_ACCOUNT, '111111111111', '222222222222', '333333333333'];
  const document: MutelistDocument = { Accounts: Object.fromEntries(accounts.map((account) => [account, { Checks: {} }])) };
  for (let i = 0; i < MUTELIST_ENTRIES; i++) {
    const account = accounts[i % accounts.length];
    const entries = document.Accounts[account].Checks;
    const check = checks[Math.floor(i / accounts.length) % checks.length];
    // A check listed again under the same account comes back as a pattern: an anchor more each time, the same match.
    let key = check;
    while (key in entries) key = `^${key}`;
    const resource = resources[(i * 7) % resources.length];
    entries[key] = {
      Regions: [resource.region, 'ap-*'],
      // One entry in ten mutes its check in its region whatever the resource.
      Resources: i % 10 === 0 ? ['*'] : [`${resource.name}$`, 'logs-.*-archive'],
      ...(i % 3 === 0 ? { Tags: ['Environment=production|Environment=staging'] } : {}),
      ...(i % 5 === 0 ? { Exceptions: { Regions: ['eu-central-2'], Tags: ['Owner=security-team'] } } : {}),
    };
  }
  return document;
}

function plainCopy(admin: Client, records: IngestionRecord[], scan: IngestionScan): Promise<number> {
  return copyWithClient(admin, `COPY plain_findings (${PLAIN_COLUMNS.join(', ')}) FROM STDIN`, plainCopyPayload(records, scan.tenantId, scan.scanId, scan.providerId, scan.scanStartedAt));
}

const PLAIN_COLUMNS = [
  'id', 'tenant_id', 'scan_id', 'provider_id', 'uid', 'check_id', 'check_title', 'status', 'status_extended', 'severity',
  'delta', 'muted', 'first_seen_at', 'service', 'region', 'resource_type', 'resource_uid', 'compliance', 'inserted_at',
];

/** The finding rows as ingestion stores them, ids included, computed as ingestion computes them (findingIdsOf). */
function plainCopyPayload(records: IngestionRecord[], tenantId: string, scanId: string, providerId: string, startedAt: Date): Buffer {
  const started = startedAt.toISOString();
  const idOf = findingIdsOf(startedAt.getTime(), scanId);
  const rows = new CopyTextBuffer();
  for (const r of records) {
    rows.append([
      idOf(r.uid), tenantId, scanId, providerId, r.uid, r.checkId, r.checkTitle, r.status, r.statusExtended, r.severity,
      'new', r.muted, started, r.service, r.region, r.resourceType, r.resources[0]?.uid ?? '', JSON.stringify(r.compliance), started,
    ]);
  }
  return rows.take();
}

main().catch((error) => {
  process.stderr.write(`bench:ingest failed: ${(error as Error).stack}\n`);
  process.exit(1);
});
