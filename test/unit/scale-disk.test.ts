import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { Client } from 'pg';
import { BENCH_SERVER_URL } from '../support/bench-database';
import { BYTES_PER_FINDING, diskVerdict } from '../support/scale-disk';

async function scaleDatabases(): Promise<number> {
  const client = new Client({ connectionString: BENCH_SERVER_URL });
  await client.connect();
  try {
    const { rows } = await client.query(`SELECT count(*)::int AS n FROM pg_database WHERE datname LIKE 'cspm_bench_scale_%'`);
    return rows[0].n;
  } finally {
    await client.end();
  }
}

/**
 * bench:scale checks the disk before it builds anything: the estimated size
 * of the requested findings plus the WAL PostgreSQL may keep, against the
 * free space where the server keeps its data.
 */
describe('the scale benchmark disk check', () => {
  it('asks for the findings at the measured size per finding plus max_wal_size', () => {
    const verdict = diskVerdict(10_000_000, 100 * 1024 ** 3, 1024 ** 3);
    assert.equal(verdict.requiredBytes, 10_000_000 * BYTES_PER_FINDING + 1024 ** 3);
    assert.equal(verdict.enough, true);
  });

  it('refuses when the free space is short by a byte, naming required and free', () => {
    const required = 1_000_000 * BYTES_PER_FINDING + 4096;
    assert.equal(diskVerdict(1_000_000, required, 4096).enough, true);
    const short = diskVerdict(1_000_000, required - 1, 4096);
    assert.equal(short.enough, false);
    assert.match(short.message, new RegExp(`${required} bytes\\) required`));
    assert.match(short.message, new RegExp(`${required - 1} bytes\\) free`));
  });

  it('makes the benchmark exit non-zero at once, with nothing built, when asked for more than the disk holds', async () => {
    const before = await scaleDatabases();
    const child = spawn(process.execPath, [join(__dirname, '..', 'bench', 'bench-scale.js')], {
      env: { ...process.env, BENCH_SCALE_FINDINGS: '1000000000000' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const started = Date.now();
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    assert.notEqual(code, 0);
    assert.match(stderr, /not enough disk space for 1000000000000 findings and the 100000000000-finding baseline beside them: .* required, .* free .*nothing was built/);
    assert.equal(stdout, '');
    assert.ok(Date.now() - started < 20_000, 'it stops before building');
    assert.equal(await scaleDatabases(), before);
  });
});
