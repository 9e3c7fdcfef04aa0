import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { PassThrough } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { Client } from 'pg';
import { pipelined } from '../../src/common/pipelined';
import { rlsTransaction } from '../../src/database/rls-transaction';
import { copyRow, copyWithClient } from '../../src/findings/ingestion/copy-from-stdin';
import { INGESTION_BATCH_SIZE } from '../../src/findings/ingestion/findings-ingestion.service';
import { encodeBatch, writeBatch } from '../../src/findings/ingestion/ingest-batch';
import { IngestionRecord } from '../../src/findings/ingestion/ingestion-record';
import { generateOcsfRecords, writeOcsfJsonArray } from '../../src/scans/ocsf/ocsf-generator';
import { RawOcsfFinding } from '../../src/scans/ocsf/ocsf-record';
import { readOcsf } from '../../src/scans/ocsf/ocsf-stream-reader';
import { createBenchEnvironment } from '../support/bench-database';
import { appDataSource, ingestRecords, insertCompletedScan, insertProviderRow, insertTenant } from '../support/bench-ingestion';
import { generateRecords } from '../support/finding-generator';

/**
 * `npm run bench:ingest`: findings per second through the batch path
 * (staging COPY + INSERT … SELECT under RLS, with resources, links, latest
 * state and totals) from records already in memory, and as an import reads
 * them (a gzipped OCSF file through the OCSF reader, one transaction), beside
 * a plain COPY of the same number of finding rows into an unprotected table
 * without RLS, in the same run.
 */
const FINDINGS = Number(process.env.BENCH_FINDINGS ?? 100_000);

async function main(): Promise<void> {
  const bench = await createBenchEnvironment('ingest');
  const admin = new Client({ connectionString: bench.env.DATABASE_ADMIN_URL });
  await admin.connect();
  const app = await appDataSource(bench.env.DATABASE_URL, 1);
  try {
    const tenantId = await insertTenant(admin, 'bench ingest');
    const providerId = await insertProviderRow(admin, tenantId, '123456789012');
    const startedAt = new Date();
    const scanId = await insertCompletedScan(admin, tenantId, providerId, startedAt);
    const records = [...generateRecords({ providerKey: 'bench', count: FINDINGS })];

    const ingestStart = process.hrtime.bigint();
    const inserted = await ingestRecords(app, { tenantId, scanId, providerId, scanStartedAt: startedAt }, records);
    const ingestSeconds = Number(process.hrtime.bigint() - ingestStart) / 1e9;
    if (inserted !== FINDINGS) throw new Error(`ingested ${inserted} of ${FINDINGS}`);

    // The same number of findings again, as an import reads them: a gzipped Prowler OCSF file through the OCSF reader, in one transaction.
    const file = join(mkdtempSync(join(tmpdir(), 'bench-ingest-')), 'scan.ocsf.json.gz');
    await writeOcsfFile(file, generateOcsfRecords({ providerType: 'aws', accountUid: '210987654321', count: FINDINGS, seed: 5 }));
    const importProvider = await insertProviderRow(admin, tenantId, '210987654321');
    const importScan = { tenantId, providerId: importProvider, scanStartedAt: new Date(), scanId: '' };
    importScan.scanId = await insertCompletedScan(admin, tenantId, importProvider, importScan.scanStartedAt);
    const importStart = process.hrtime.bigint();
    const imported = await rlsTransaction(app, tenantId, async (m) => {
      let written = 0;
      await pipelined(
        readOcsf(createReadStream(file), { expectedProvider: 'aws', expectedAccount: '210987654321', batchSize: INGESTION_BATCH_SIZE }),
        (batch) => encodeBatch(importScan, batch.records),
        async (encoded) => {
          written += (await writeBatch(m, importScan, encoded)).findingsInserted;
        },
      );
      return written;
    });
    const importSeconds = Number(process.hrtime.bigint() - importStart) / 1e9;
    rmSync(dirname(file), { recursive: true, force: true });
    if (imported !== FINDINGS) throw new Error(`imported ${imported} of ${FINDINGS}`);

    await admin.query(`CREATE TABLE plain_findings (LIKE findings INCLUDING DEFAULTS INCLUDING GENERATED INCLUDING CONSTRAINTS INCLUDING INDEXES)`);
    const copyStart = process.hrtime.bigint();
    await copyWithClient(admin, `COPY plain_findings (${PLAIN_COLUMNS.join(', ')}) FROM STDIN`, plainCopyPayload(records, tenantId, scanId, providerId, startedAt));
    const copySeconds = Number(process.hrtime.bigint() - copyStart) / 1e9;

    const ingestRate = Math.round(FINDINGS / ingestSeconds);
    const importRate = Math.round(FINDINGS / importSeconds);
    const copyRate = Math.round(FINDINGS / copySeconds);
    process.stdout.write(
      JSON.stringify({
        bench: 'ingest',
        findings: FINDINGS,
        ingest_seconds: Number(ingestSeconds.toFixed(2)),
        ingest_findings_per_s: ingestRate,
        plain_copy_findings_per_s: copyRate,
        ratio: Number((ingestRate / copyRate).toFixed(3)),
        import_seconds: Number(importSeconds.toFixed(2)),
        import_findings_per_s: importRate,
        import_ratio: Number((importRate / copyRate).toFixed(3)),
      }) + '\n',
    );
  } finally {
    await app.destroy();
    await admin.end();
    await bench.cleanup();
  }
}

async function writeOcsfFile(path: string, records: Iterable<RawOcsfFinding>): Promise<void> {
  const json = new PassThrough();
  const written = pipeline(json, createGzip(), createWriteStream(path));
  await writeOcsfJsonArray(records, json);
  json.end();
  await written;
}

const PLAIN_COLUMNS = [
  'id', 'tenant_id', 'scan_id', 'provider_id', 'uid', 'check_id', 'check_title', 'status', 'status_extended', 'severity',
  'delta', 'muted', 'first_seen_at', 'service', 'region', 'resource_type', 'resource_uid', 'compliance', 'inserted_at',
];

/** The finding rows as ingestion stores them, ids included (computed here as the finding_uuid SQL function does). */
function plainCopyPayload(records: IngestionRecord[], tenantId: string, scanId: string, providerId: string, startedAt: Date): Buffer {
  const started = startedAt.toISOString();
  const timeHex = startedAt.getTime().toString(16).padStart(12, '0');
  return Buffer.from(
    records
      .map((r) => {
        const h = createHash('md5').update(`${scanId}:${r.uid}`).digest('hex');
        const hex = `${timeHex}7${h.slice(0, 3)}${'89ab'[parseInt(h[3], 16) & 3]}${h.slice(4, 19)}`;
        const id = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
        return copyRow([
          id, tenantId, scanId, providerId, r.uid, r.checkId, r.checkTitle, r.status, r.statusExtended, r.severity,
          'new', r.muted, started, r.service, r.region, r.resourceType, r.resources[0]?.uid ?? '', JSON.stringify(r.compliance), started,
        ]);
      })
      .join(''),
  );
}

main().catch((error) => {
  process.stderr.write(`bench:ingest failed: ${(error as Error).stack}\n`);
  process.exit(1);
});
