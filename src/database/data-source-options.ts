import { DataSourceOptions } from 'typeorm';
import { join } from 'node:path';

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
      connectionTimeoutMillis: p.connectTimeoutMs ?? 10000,
    },
  };
}
