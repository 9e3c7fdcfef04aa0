import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { PassThrough } from 'node:stream';
import { parseArgs } from 'node:util';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { hashPassword } from '../src/auth/password';
import { createTenantWithOwner } from '../src/auth/tenant-provisioning';
import { postgresOptions } from '../src/database/data-source-options';
import { setupDatabase } from '../src/database/database-setup';
import { rlsTransaction } from '../src/database/rls-transaction';
import { newId } from '../src/database/uuid';
import { INGESTION_BATCH_SIZE } from '../src/findings/ingestion/ingestion-record';
import { ingestBatch } from '../src/findings/ingestion/ingest-batch';
import { publishScan } from '../src/findings/ingestion/scan-publication';
import { IngestionScan } from '../src/findings/ingestion/ingestion-record';
import { GeneratedProviderType, generateOcsfRecords, writeOcsfJsonArray } from '../src/scans/ocsf/ocsf-generator';
import { RawOcsfFinding } from '../src/scans/ocsf/ocsf-record';
import { readOcsf } from '../src/scans/ocsf/ocsf-stream-reader';
import { aggregate, appDataSource, ensurePartitionsSince, insertCompletedScan, insertProviderRow } from '../test/support/bench-ingestion';
import { hash } from '../test/support/finding-generator';

/**
 * `npm run seed -- --tenants 10 --findings 200000`: fills the database of
 * DATABASE_URL / DATABASE_ADMIN_URL through the real ingestion path:
 * generated Prowler JSON-OCSF output, streamed through the OCSF reader an
 * import uses, written by the ingestion batch in tenant transactions, then
 * aggregated. Each tenant gets an owner who can sign in, three providers
 * (AWS, Azure, GCP) and three weekly scans per provider, about 5% of the
 * findings changing status from one scan to the next, so delta,
 * first_seen_at and "latest" have history behind them. Progress goes to
 * stderr; the last line on stdout is one JSON line of what was seeded.
 */
const SCANS_PER_PROVIDER = 3;
const PASSWORD = 'Seeded-Password-2024';
const PROVIDERS: ReadonlyArray<{ type: GeneratedProviderType; uid: (n: number) => string }> = [
  { type: 'aws', uid: (n: number) => String(100000000000 + n) },
  { type: 'azure', uid: () => newId() },
  { type: 'gcp', uid: (n: number) => `seeded-project-${n}` },
];

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { tenants: { type: 'string', default: '10' }, findings: { type: 'string', default: '200000' } } });
  const tenants = positive(values.tenants, '--tenants');
  const findings = positive(values.findings, '--findings');
  const appUrl = required('DATABASE_URL');
  const adminUrl = required('DATABASE_ADMIN_URL');
  await setupDatabase(appUrl, adminUrl);

  const admin = new Client({ connectionString: adminUrl });
  await admin.connect();
  const adminSource = await new DataSource(postgresOptions({ name: 'seed-admin', url: adminUrl, poolSize: 1, statementTimeoutMs: 0, applicationName: 'cspm-api:seed' })).initialize();
  const app = await appDataSource(appUrl, 1);
  const week = 7 * 24 * 3600_000;
  const firstScan = new Date(Date.now() - SCANS_PER_PROVIDER * week);
  await ensurePartitionsSince(admin, firstScan);

  const started = Date.now();
  const progress = new ProgressBar(findings);
  const run = randomBytes(3).toString('hex');
  const scans = tenants * PROVIDERS.length * SCANS_PER_PROVIDER;
  // An even split; the first scans take one more finding each until --findings is reached.
  const countOf = (scan: number) => Math.floor(findings / scans) + (scan < findings % scans ? 1 : 0);
  let scanNumber = 0;
  const accounts: string[] = [];
  try {
    const password = await hashPassword(PASSWORD);
    for (let t = 0; t < tenants; t++) {
      const email = `seed-${run}-${t}@example.com`;
      const userId = newId();
      await admin.query(`INSERT INTO users (id, name, email, password, company_name) VALUES ($1, $2, $3, $4, 'Seeded')`, [userId, `Seeded owner ${t}`, email, password]);
      const tenantId = await adminSource.transaction((m) => createTenantWithOwner(m, userId, `Seeded tenant ${t}`));
      accounts.push(email);
      for (const [p, provider] of PROVIDERS.entries()) {
        const accountUid = provider.uid(t * PROVIDERS.length + p);
        const providerId = await insertProviderRow(admin, tenantId, accountUid, provider.type);
        for (let s = 0; s < SCANS_PER_PROVIDER; s++) {
          const startedAt = new Date(firstScan.getTime() + s * week + (t * PROVIDERS.length + p) * 60_000);
          const scanId = await insertCompletedScan(admin, tenantId, providerId, startedAt);
          const count = countOf(scanNumber++);
          // One seed per provider: every scan sees the same resources and checks, so finding uids repeat across scans.
          const records = changedStatuses(generateOcsfRecords({ providerType: provider.type, accountUid, count, seed: t * PROVIDERS.length + p + 1, scanTime: startedAt }), s);
          await importOcsf(app, { tenantId, scanId, providerId, scanStartedAt: startedAt }, provider.type, records, (n) => progress.add(n));
          await aggregate(app, tenantId, scanId);
        }
      }
    }
  } finally {
    progress.finish();
    await app.destroy();
    await adminSource.destroy();
    await admin.end();
  }
  process.stdout.write(JSON.stringify({ seed: 'done', tenants, findings: progress.done, scans, seconds: Number(((Date.now() - started) / 1000).toFixed(1)), first_account: accounts[0] }) + '\n');
  process.stderr.write(`Seeded ${progress.done} findings in ${tenants} tenants. Sign in as ${accounts[0]}${accounts.length > 1 ? ` … ${accounts[accounts.length - 1]}` : ''} with password ${PASSWORD}\n`);
}

/**
 * The import path for one scan: the records written as a Prowler JSON-OCSF
 * array into a stream, read back by the OCSF reader, each batch written
 * in its own tenant transaction, then the scan published.
 */
async function importOcsf(
  app: DataSource,
  scan: IngestionScan,
  providerType: string,
  records: Iterable<RawOcsfFinding>,
  onBatch: (count: number) => void,
): Promise<void> {
  const file = new PassThrough();
  const writing = writeOcsfJsonArray(records, file).then(() => file.end(), (error: Error) => file.destroy(error));
  for await (const batch of readOcsf(file, { expectedProvider: providerType, batchSize: INGESTION_BATCH_SIZE })) {
    await rlsTransaction(app, scan.tenantId, (m) => ingestBatch(m, scan, batch.records));
    onBatch(batch.records.length);
  }
  await writing;
  await rlsTransaction(app, scan.tenantId, (m) => publishScan(m, scan));
}

/** Later scans flip the status of about one finding in twenty, chosen by uid, so delta has changes to find. */
function* changedStatuses(records: Iterable<RawOcsfFinding>, scanIndex: number): Generator<RawOcsfFinding> {
  for (const record of records) {
    const uid = String((record.finding_info as { uid?: unknown } | undefined)?.uid ?? '');
    if (scanIndex === 0 || hash(`${uid}:${scanIndex}`) % 20 !== 0) {
      yield record;
      continue;
    }
    yield { ...record, status_code: record.status_code === 'FAIL' ? 'PASS' : 'FAIL' };
  }
}

/** A one-line bar on stderr, redrawn at most ten times a second. */
class ProgressBar {
  done = 0;
  private readonly started = Date.now();
  private drawnAt = 0;

  constructor(private readonly total: number) {}

  add(count: number): void {
    this.done += count;
    if (Date.now() - this.drawnAt > 100) this.draw();
  }

  finish(): void {
    this.draw();
    process.stderr.write('\n');
  }

  private draw(): void {
    this.drawnAt = Date.now();
    const share = Math.min(1, this.done / this.total);
    const width = 30;
    const filled = Math.round(share * width);
    const rate = Math.round(this.done / Math.max((Date.now() - this.started) / 1000, 0.001));
    process.stderr.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(share * 100).toFixed(0).padStart(3)}% ${this.done}/${this.total} findings, ${rate}/s `);
  }
}

function positive(value: string | undefined, name: string): number {
  const number = Number(value);
  if (!Number.isInteger(number) || number < 1) throw new Error(`${name} must be a positive integer`);
  return number;
}

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} must be set (see .env.example)`);
  return value;
}

main().catch((error) => {
  process.stderr.write(`seed failed: ${(error as Error).message}\n`);
  process.exit(1);
});
