import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from 'pg';
import { partitionsOfMonth } from '../../src/findings/storage/finding-partitions';
import { generateOcsfRecords } from '../../src/scans/ocsf/ocsf-generator';
import { createProvider, randomAwsUid } from '../support/access-fixtures';
import { startApiProcess } from '../support/api-process';
import { createBenchEnvironment } from '../support/bench-database';
import { writeGzippedOcsfFile } from '../support/gzipped-ocsf-file';
import { signUp } from '../support/http-client';
import { spawnWorker } from '../support/tasks-fixture';

/**
 * `npm run bench:large-import`: one OCSF import of BENCH_FINDINGS findings
 * (1,000,000 by default) through the whole path: the gzipped file uploaded
 * to the API process, the `scan-import` job in a worker process of its own
 * (WORKER_QUEUES=scans, as scan workers are deployed). Reports the import's
 * duration (upload answered to task completed), the peak RSS (VmHWM) of the
 * worker and of the API, and the longest transaction the worker's database
 * sessions held open meanwhile (sampled from pg_stat_activity every 250 ms):
 * the batches and the publication each take a transaction of their own.
 * The month's partitions are analyzed first, as after an earlier scan.
 */
const FINDINGS = Number(process.env.BENCH_FINDINGS ?? 1_000_000);
const SAMPLE_MS = 250;

async function main(): Promise<void> {
  const bench = await createBenchEnvironment('large-import');
  const dir = mkdtempSync(join(tmpdir(), 'bench-large-import-'));
  const env = { ...bench.env, SCAN_SPOOL_DIR: join(dir, 'spool'), SCAN_IMPORT_MAX_BYTES: String(4 * 1024 ** 3) };
  const api = await startApiProcess(env);
  const worker = await spawnWorker({ ...env, WORKER_QUEUES: 'scans', LOG_LEVEL: 'warn' });
  const admin = new Client({ connectionString: bench.env.DATABASE_ADMIN_URL });
  await admin.connect();
  try {
    const owner = await signUp(api.baseUrl, 'bench-large-import');
    const accountUid = randomAwsUid();
    const providerId = await createProvider(owner.client, 'aws', accountUid);
    const file = join(dir, 'scan.ocsf.json.gz');
    await writeGzippedOcsfFile(file, generateOcsfRecords({ providerType: 'aws', accountUid, count: FINDINGS, seed: 11 }), 1);

    // The month's partitions as the overview job leaves them after a scan: their statistics predate this import.
    for (const { name } of partitionsOfMonth(new Date())) await admin.query(`ANALYZE ${name}`);

    const started = Date.now();
    const taskId = await upload(api.baseUrl, owner.access, providerId, file);
    const uploadSeconds = (Date.now() - started) / 1000;
    let longestTransaction = 0;
    let task: { state: string; result: Record<string, unknown> | null };
    for (;;) {
      const [row] = (await admin.query(`SELECT state, result FROM tasks WHERE id = $1`, [taskId])).rows;
      task = row;
      if (['completed', 'failed', 'cancelled'].includes(task.state)) break;
      longestTransaction = Math.max(longestTransaction, await oldestAppTransactionSeconds(admin));
      await sleep(SAMPLE_MS);
    }
    const seconds = (Date.now() - started) / 1000;
    if (task.state !== 'completed') throw new Error(`the import ended ${task.state}: ${JSON.stringify(task.result)}`);
    if (task.result?.findings !== FINDINGS) throw new Error(`the import stored ${String(task.result?.findings)} of ${FINDINGS} findings`);

    process.stdout.write(
      JSON.stringify({
        bench: 'large-import',
        findings: FINDINGS,
        file_mb: Number((statSync(file).size / 1024 ** 2).toFixed(1)),
        upload_seconds: Number(uploadSeconds.toFixed(1)),
        import_seconds: Number(seconds.toFixed(1)),
        findings_per_s: Math.round(FINDINGS / seconds),
        worker_peak_rss_mb: peakRssMb(worker.child.pid!),
        api_peak_rss_mb: peakRssMb(api.child.pid!),
        longest_transaction_seconds: Number(longestTransaction.toFixed(1)),
      }) + '\n',
    );
  } finally {
    await admin.end();
    worker.child.kill('SIGTERM');
    await worker.exited;
    await api.stop();
    rmSync(dir, { recursive: true, force: true });
    await bench.cleanup();
  }
}

/** POST /api/v1/scans/imports with the file streamed from disk; answers the task id. */
async function upload(baseUrl: string, token: string, providerId: string, file: string): Promise<string> {
  const form = new FormData();
  form.append('provider_id', providerId);
  form.append('file', new Blob([readFileSync(file)]), 'scan.ocsf.json.gz');
  const response = await fetch(`${baseUrl}/api/v1/scans/imports`, {
    method: 'POST',
    headers: { accept: 'application/vnd.api+json', authorization: `Bearer ${token}` },
    body: form,
  });
  if (response.status !== 202) throw new Error(`the upload answered ${response.status}: ${await response.text()}`);
  return ((await response.json()) as { data: { id: string } }).data.id;
}

/** How long the oldest open transaction of the application role has been running, in seconds (0 for none). */
async function oldestAppTransactionSeconds(admin: Client): Promise<number> {
  const { rows } = await admin.query(
    `SELECT COALESCE(max(extract(epoch FROM clock_timestamp() - xact_start)), 0)::float AS seconds
       FROM pg_stat_activity WHERE datname = current_database() AND usename = 'cspm_bench_app' AND xact_start IS NOT NULL`,
  );
  return rows[0].seconds;
}

/** A process's peak resident set (VmHWM), in MB. */
function peakRssMb(pid: number): number {
  const match = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!match) throw new Error(`no VmHWM for process ${pid}`);
  return Math.round(Number(match[1]) / 1024);
}

main().catch((error) => {
  process.stderr.write(`bench:large-import failed: ${(error as Error).stack}\n`);
  process.exit(1);
});
