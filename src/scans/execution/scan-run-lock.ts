import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from 'pg';
import { CONNECT_TIMEOUT_MS } from '../../database/data-source-options';

/** How often an attempt waiting for another attempt of the same scan asks for the lock again. */
export const SCAN_RUN_LOCK_RETRY_MS = 500;

/** The text whose hashtextextended(key, 0) is the scan's advisory lock key. */
export function scanRunLockKey(scanId: string): string {
  return `scan-run:${scanId}`;
}

/**
 * Runs `work` while holding the scan's run lock, so that one attempt of a
 * scan's job runs at a time. BullMQ hands a job to another worker when its
 * worker misses a lock renewal (a process stalled past JOB_LOCK_DURATION_MS,
 * not only a dead one), and the first attempt runs on meanwhile. Two attempts
 * of an import at once undo each other: the second one's clean start removes
 * the rows the first is about to publish, and the first publishes an empty
 * scan. The second attempt waits here instead; once the first has ended, its
 * begin() finds the scan stored and ends too.
 *
 * The lock is a PostgreSQL session advisory lock on a connection of its own,
 * so it ends with the session: a killed worker's lock goes as its socket
 * closes, and closing the connection releases it whatever happened. The
 * waiting attempt polls rather than blocks, so a cancel, a time limit or a
 * shutdown (the job's `signal`) still stops it.
 */
export async function withScanRunLock<T>(databaseUrl: string, scanId: string, signal: AbortSignal, work: () => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: databaseUrl, application_name: 'cspm-api:scan-run-lock', connectionTimeoutMillis: CONNECT_TIMEOUT_MS });
  client.on('error', () => undefined); // A lost session is seen by `work`'s own connections; its lock went with it.
  await client.connect();
  try {
    const key = scanRunLockKey(scanId);
    while (!(await client.query<{ locked: boolean }>(`SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS locked`, [key])).rows[0].locked) {
      await sleep(SCAN_RUN_LOCK_RETRY_MS, undefined, { signal }).catch(() => signal.throwIfAborted());
    }
    return await work();
  } finally {
    await client.end().catch(() => undefined);
  }
}
