import { statfs } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Client } from 'pg';

/**
 * Bytes the database grows by per finding stored, tables and indexes
 * together: findings and resource_finding_links (partitions and indexes),
 * finding_latest, finding_counts, resources, tags, scans, scan_ingestions and
 * the summaries of the aggregated scans. Measured with `npm run bench:scale`
 * (`BENCH_SCALE_FINDINGS` at 200,000 and the default; the default shape: 90
 * daily scans, the last 7 days aggregated) on PostgreSQL 15: the growth of
 * pg_database_size from the empty schema to the full build, over the
 * findings (`database_bytes_per_finding` of each stage in its JSON line),
 * was 1,135 and 1,240 bytes in two runs at 200,000 findings, 1,498 at
 * 1,000,000 and 949 at 10,000,000 (the fixed part, scans and summaries,
 * weighs less per finding as the history grows); rounded up from the
 * largest.
 */
export const BYTES_PER_FINDING = 1500;

export interface DiskVerdict {
  requiredBytes: number;
  freeBytes: number;
  enough: boolean;
  message: string;
}

/**
 * Whether `findings` findings fit in `freeBytes`: their estimated size plus
 * the WAL PostgreSQL may keep before a checkpoint recycles it (max_wal_size).
 * `what` names them in the message as the caller asked for them.
 */
export function diskVerdict(findings: number, freeBytes: number, walBytes: number, what = `${findings} findings`): DiskVerdict {
  const requiredBytes = Math.ceil(findings * BYTES_PER_FINDING + walBytes);
  const enough = requiredBytes <= freeBytes;
  const gib = (bytes: number) => `${(bytes / 1024 ** 3).toFixed(1)} GiB`;
  const message = enough
    ? `${what} need about ${gib(requiredBytes)}; ${gib(freeBytes)} free`
    : `not enough disk space for ${what}: about ${gib(requiredBytes)} (${requiredBytes} bytes) required, ` +
      `${gib(freeBytes)} (${freeBytes} bytes) free where PostgreSQL keeps its data`;
  return { requiredBytes, freeBytes, enough, message };
}

/**
 * Free space (to an unprivileged user) of the filesystem holding the
 * server's data directory, and its max_wal_size. The benchmarks run on the
 * server's machine; the directory itself may be unreadable, so the nearest
 * ancestor that can be examined stands for it (the same filesystem unless
 * the data directory is a mount of its own).
 */
export async function serverDisk(adminUrl: string): Promise<{ dataDirectory: string; freeBytes: number; walBytes: number }> {
  const client = new Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const { rows } = await client.query(
      `SELECT current_setting('data_directory') AS dir, pg_size_bytes(current_setting('max_wal_size'))::bigint AS wal`,
    );
    const dataDirectory: string = rows[0].dir;
    for (let path = dataDirectory; ; path = dirname(path)) {
      try {
        const stats = await statfs(path);
        return { dataDirectory, freeBytes: stats.bavail * stats.bsize, walBytes: Number(rows[0].wal) };
      } catch (error) {
        if (path === dirname(path)) throw error;
      }
    }
  } finally {
    await client.end();
  }
}
