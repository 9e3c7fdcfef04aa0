import { Global, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import {
  ADMIN_DATA_SOURCE,
  ADMIN_REPLICA_DATA_SOURCE,
  APP_DATA_SOURCE,
  REPLICA_DATA_SOURCE,
} from './data-source-names';
import { postgresOptions } from './data-source-options';
import { ReplicaRouter } from './replica-router';
import { TenantDatabase } from './tenant-database';

/**
 * Four pools: the app role (RLS applies) for every request and job, its
 * replica for GET/HEAD, and the owner role for migrations and the few named
 * cross-tenant look-ups (sign-in, the tenants a user belongs to).
 */
function pool(name: string, pick: (c: AppConfig) => string, sizeShare = 1, replica = false) {
  return TypeOrmModule.forRootAsync({
    name,
    inject: [APP_CONFIG],
    useFactory: (config: AppConfig) =>
      postgresOptions({
        name,
        url: pick(config),
        poolSize: Math.max(1, Math.round(config.database.poolSize * sizeShare)),
        statementTimeoutMs: config.database.statementTimeoutMs,
        applicationName: `cspm-api:${name}`,
        // An unreachable replica must cost a read little before it falls back to the primary.
        connectTimeoutMs: replica && config.database.replicaConfigured ? REPLICA_CONNECT_TIMEOUT_MS : undefined,
      }),
  });
}

const REPLICA_CONNECT_TIMEOUT_MS = 2000;

@Global()
@Module({
  imports: [
    pool(APP_DATA_SOURCE, (c) => c.database.appUrl),
    pool(REPLICA_DATA_SOURCE, (c) => c.database.replicaUrl, 1, true),
    // A worker without the owner role (ownerRoleProblem) gets these two as app-role pools, which RLS
    // confines; TenantDatabase refuses every owner call there besides.
    pool(ADMIN_DATA_SOURCE, (c) => c.database.adminUrl || c.database.appUrl, 0.5),
    pool(ADMIN_REPLICA_DATA_SOURCE, (c) => c.database.adminReplicaUrl || c.database.appUrl, 0.5, true),
  ],
  providers: [ReplicaRouter, TenantDatabase],
  exports: [ReplicaRouter, TenantDatabase],
})
export class DatabaseModule {}
