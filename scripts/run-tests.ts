import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Client } from 'pg';
import { setupDatabase } from '../src/database/database-setup';
import { findTests } from './test-files';
import { startLocalPostgres } from '../src/dev/local-postgres';
import { countRedisPrefix, deleteRedisPrefix, dropScratchDatabase } from '../src/dev/scratch-cleanup';
import { openApiDocument, uncalledOperations } from '../test/support/openapi-check';

/**
 * `npm test`: a fresh database and Redis key prefix for this run, every test
 * file under dist/test (unit and end-to-end, real PostgreSQL, Redis and HTTP),
 * then clean-up, and a closing `N passed, N failed` line.
 */
const DEFAULT_SERVER_URL = 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

async function main(): Promise<number> {
  const runId = randomBytes(4).toString('hex');
  const database = `cspm_test_${runId}`;
  const prefix = `cspm-test-${runId}`;
  const stops: Array<() => Promise<void>> = [];
  const server = new URL(await resolveServer(stops));
  if (!['127.0.0.1', 'localhost', '[::1]'].includes(server.hostname)) throw new Error('Tests run only against 127.0.0.1');

  const adminUrl = withDatabase(server, database);
  const appUrl = new URL(adminUrl);
  appUrl.username = 'cspm_test_app';
  appUrl.password = 'cspm-test-app';
  await setupDatabase(appUrl.toString(), adminUrl, (m) => process.stdout.write(`test setup: ${m}\n`));

  const files = findTests(resolve(__dirname, '..', 'test'), resolve(__dirname, '..', '..', 'test'), process.argv.slice(2));
  const tapDir = mkdtempSync(join(tmpdir(), 'cspm-tap-'));
  const tapFile = join(tapDir, 'results.tap');
  // Every operation the suites call through their HTTP client, one line per call (test/support/openapi-check.ts).
  const callsFile = join(tapDir, 'openapi-calls.txt');
  // Report zips and uploads of this run go to a folder of its own, removed afterwards; the checkout's stays as it was.
  const filesDir = mkdtempSync(join(tmpdir(), 'cspm-test-files-'));
  const checkoutReports = resolve(__dirname, '..', '..', '.data', 'reports');
  const checkoutReportsBefore = new Set(listFiles(checkoutReports));
  const env = {
    ...process.env,
    NODE_ENV: 'test',
    DATABASE_URL: appUrl.toString(),
    DATABASE_ADMIN_URL: adminUrl,
    REDIS_URL,
    REDIS_PREFIX: prefix,
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'silent',
    TEST_RUN_ID: runId,
    OPENAPI_CALLS_FILE: callsFile,
    REPORTS_DIR: join(filesDir, 'reports'),
    SCAN_SPOOL_DIR: join(filesDir, 'spool'),
  };
  let exitCode = 1;
  try {
    exitCode = await run(process.execPath, [
      '--test',
      `--test-concurrency=${process.env.TEST_CONCURRENCY ?? '2'}`,
      '--test-reporter=spec', '--test-reporter-destination=stdout',
      '--test-reporter=tap', `--test-reporter-destination=${tapFile}`,
      ...files,
    ], env);
  } finally {
    await dropScratchDatabase(server.toString(), database);
    await deleteRedisPrefix(REDIS_URL, prefix);
    rmSync(filesDir, { recursive: true, force: true });
  }
  const leftBehind = await whatWasLeftBehind(server.toString(), database, prefix, filesDir, checkoutReports, checkoutReportsBefore);
  for (const stop of stops) await stop().catch(() => undefined);
  const tap = readFileSync(tapFile, 'utf8');
  const calls = existsSync(callsFile) ? readFileSync(callsFile, 'utf8').split('\n') : [];
  rmSync(tapDir, { recursive: true, force: true });
  const passed = Number(/^# pass (\d+)/m.exec(tap)?.[1] ?? 0);
  let failed = Number(/^# fail (\d+)/m.exec(tap)?.[1] ?? 0) + Number(/^# cancelled (\d+)/m.exec(tap)?.[1] ?? 0);
  if (leftBehind.length > 0) {
    process.stdout.write(`\nthe run left behind:\n  ${leftBehind.join('\n  ')}\n`);
    failed += 1;
  }
  // Only a run of every suite can tell which operations none of them calls.
  if (process.argv.length <= 2) {
    const uncalled = uncalledOperations(openApiDocument(), calls);
    if (uncalled.length > 0) {
      process.stdout.write(`\n${uncalled.length} operations of the OpenAPI document no suite called:\n  ${uncalled.join('\n  ')}\n`);
      failed += 1;
    }
  }
  process.stdout.write(`\n${passed} passed, ${failed} failed\n`);
  return exitCode !== 0 || failed > 0 || passed === 0 ? 1 : 0;
}

/** The run's own check that it cleaned up: no database, no key under its prefix, no file it wrote. */
async function whatWasLeftBehind(
  serverUrl: string,
  database: string,
  prefix: string,
  filesDir: string,
  checkoutReports: string,
  checkoutReportsBefore: Set<string>,
): Promise<string[]> {
  const found: string[] = [];
  const client = new Client({ connectionString: serverUrl });
  await client.connect();
  try {
    if ((await client.query(`SELECT 1 FROM pg_database WHERE datname = $1`, [database])).rowCount) found.push(`database ${database}`);
  } finally {
    await client.end();
  }
  const keys = await countRedisPrefix(REDIS_URL, prefix);
  if (keys > 0) found.push(`${keys} Redis keys under ${prefix}`);
  if (existsSync(filesDir)) found.push(filesDir);
  for (const file of listFiles(checkoutReports)) if (!checkoutReportsBefore.has(file)) found.push(file);
  return found;
}

function listFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => !entry.isDirectory())
    .map((entry) => join(entry.parentPath, entry.name));
}

/** TEST_POSTGRES_URL, else the local server on 5432, else an embedded PostgreSQL from npm for this run. */
async function resolveServer(stops: Array<() => Promise<void>>): Promise<string> {
  if (process.env.TEST_POSTGRES_URL) return process.env.TEST_POSTGRES_URL;
  const probe = new Client({ connectionString: DEFAULT_SERVER_URL, connectionTimeoutMillis: 2000 });
  try {
    await probe.connect();
    await probe.end();
    return DEFAULT_SERVER_URL;
  } catch {
    process.stdout.write('test setup: no PostgreSQL on 127.0.0.1:5432; starting an embedded one\n');
  }
  const embedded = await startLocalPostgres(mkdtempSync(join(tmpdir(), 'cspm-test-pg-')), 54339, (m) => process.stdout.write(`test setup: ${m}\n`));
  stops.push(embedded.stop);
  const url = new URL(embedded.adminUrl);
  url.pathname = '/postgres';
  return url.toString();
}

function withDatabase(server: URL, database: string): string {
  const url = new URL(server.toString());
  url.pathname = `/${database}`;
  return url.toString();
}

function run(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolveRun) => {
    const child = spawn(command, args, { env, stdio: 'inherit' });
    child.on('exit', (code) => resolveRun(code ?? 1));
  });
}

main().then(
  (code) => process.exit(code),
  (error) => {
    process.stderr.write(`test run failed: ${(error as Error).stack}\n0 passed, 1 failed\n`);
    process.exit(1);
  },
);
