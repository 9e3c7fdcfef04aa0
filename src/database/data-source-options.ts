import { DataSourceOptions } from 'typeorm';
import { join } from 'node:path';

/** How long opening a connection to PostgreSQL may take before it fails (a pool's, or a client of its own). */
export const CONNECT_TIMEOUT_MS = 10_000;

export interface PoolOptions {
  name: string;
  url: string;
  poolSize: number;
  statementTimeoutMs: number;
  applicationName: string;
  /** How long opening a connection may take; 10 s unless given. */
  connectTimeoutMs?: number;
}

/** Compiled migrations live beside the compiled sources in dist/migrations. */
export const MIGRATIONS_GLOB = join(__dirname, '..', '..', 'migrations', '*.js');

export function postgresOptions(p: PoolOptions, withMigrations = false): DataSourceOptions {
  return {
    type: 'postgres',
    url: p.url,
    entities: [],
    synchronize: false,
    migrationsRun: false,
    migrations: withMigrations ? [MIGRATIONS_GLOB] : [],
    migrationsTableName: 'schema_migrations',
    logging: false,
    extra: {
      max: p.poolSize,
      application_name: p.applicationName,
      statement_timeout: p.statementTimeoutMs,
      idle_in_transaction_session_timeout: Math.max(p.statementTimeoutMs * 2, 60000),
      // A process killed mid-statement (a worker's SIGKILL) would leave its statement running, holding
      // its locks, until it next writes to the dead socket: the job's next attempt would wait on them.
      // PostgreSQL 14+ checks the client every two seconds while a statement runs, and ends it.
      options: '-c client_connection_check_interval=2000',
      connectionTimeoutMillis: p.connectTimeoutMs ?? CONNECT_TIMEOUT_MS,
    },
  };
}
