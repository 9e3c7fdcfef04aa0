import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { setupDatabase } from '../../src/database/database-setup';
import { deleteRedisPrefix, dropScratchDatabase } from '../../src/dev/scratch-cleanup';

export interface BenchEnvironment {
  env: Record<string, string>;
  cleanup(): Promise<void>;
}

export const BENCH_SERVER_URL = process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';

/**
 * A fresh, migrated database and Redis prefix for one benchmark run, and the
 * environment variables that point the application at them. Dropped afterwards.
 */
export async function createBenchEnvironment(label: string): Promise<BenchEnvironment> {
  const runId = randomBytes(4).toString('hex');
  const database = `cspm_bench_${label}_${runId}`;
  const prefix = `cspm-bench-${label}-${runId}`;
  const admin = new URL(BENCH_SERVER_URL);
  admin.pathname = `/${database}`;
  const app = new URL(admin.toString());
  app.username = 'cspm_bench_app';
  app.password = 'cspm-bench-app';
  await setupDatabase(app.toString(), admin.toString());
  const env = {
    NODE_ENV: 'test',
    DATABASE_URL: app.toString(),
    DATABASE_ADMIN_URL: admin.toString(),
    REDIS_URL,
    REDIS_PREFIX: prefix,
    LOG_LEVEL: 'silent',
    TOKEN_THROTTLE_POINTS: '1000000',
    TOKEN_THROTTLE_ACCOUNT_POINTS: '1000000',
    SIGNUP_THROTTLE_POINTS: '1000000',
  };
  return {
    env,
    cleanup: async () => {
      await dropScratchDatabase(BENCH_SERVER_URL, database);
      await deleteRedisPrefix(REDIS_URL, prefix);
    },
  };
}

/**
 * A copy of a bench environment's database (CREATE DATABASE … TEMPLATE, by
 * file copy where the server has it: far less WAL than copying block by
 * block), with a Redis prefix of its own. Nothing may be connected to the
 * source database while it is copied. Dropped by its cleanup.
 */
export async function copyBenchEnvironment(source: BenchEnvironment, label: string): Promise<BenchEnvironment> {
  const runId = randomBytes(4).toString('hex');
  const database = `cspm_bench_${label}_${runId}`;
  const prefix = `cspm-bench-${label}-${runId}`;
  const sourceDatabase = new URL(source.env.DATABASE_ADMIN_URL).pathname.slice(1);
  const server = new Client({ connectionString: BENCH_SERVER_URL });
  await server.connect();
  try {
    const { rows } = await server.query(`SELECT current_setting('server_version_num')::int >= 150000 AS file_copy`);
    await server.query(`CREATE DATABASE "${database}" TEMPLATE "${sourceDatabase}"${rows[0].file_copy ? ' STRATEGY FILE_COPY' : ''}`);
  } finally {
    await server.end();
  }
  const withDatabase = (url: string) => {
    const copy = new URL(url);
    copy.pathname = `/${database}`;
    return copy.toString();
  };
  return {
    env: { ...source.env, DATABASE_URL: withDatabase(source.env.DATABASE_URL), DATABASE_ADMIN_URL: withDatabase(source.env.DATABASE_ADMIN_URL), REDIS_PREFIX: prefix },
    cleanup: async () => {
      await dropScratchDatabase(BENCH_SERVER_URL, database);
      await deleteRedisPrefix(REDIS_URL, prefix);
    },
  };
}
