import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { DataSource, EntityManager } from 'typeorm';
import {
  ADMIN_DATA_SOURCE,
  ADMIN_REPLICA_DATA_SOURCE,
  APP_DATA_SOURCE,
  REPLICA_DATA_SOURCE,
} from './data-source-names';
import { rlsTransaction, RlsTransactionOptions } from './rls-transaction';

/**
 * The one door to the database for services: tenant work goes through
 * `transaction`, and the owner role is reachable only through `admin*`
 * methods whose call sites say why they need to cross tenants.
 */
@Injectable()
export class TenantDatabase {
  /** False in a worker started without DATABASE_ADMIN_URL: every owner call then throws. */
  readonly hasOwnerRole: boolean;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    @InjectDataSource(APP_DATA_SOURCE) readonly app: DataSource,
    @InjectDataSource(REPLICA_DATA_SOURCE) readonly replica: DataSource,
    @InjectDataSource(ADMIN_DATA_SOURCE) private readonly adminSource: DataSource,
    @InjectDataSource(ADMIN_REPLICA_DATA_SOURCE) private readonly adminReplicaSource: DataSource,
  ) {
    this.hasOwnerRole = config.database.adminUrl !== '';
  }

  transaction<T>(tenantId: string, fn: (m: EntityManager) => Promise<T>, options: RlsTransactionOptions = {}): Promise<T> {
    return rlsTransaction(options.readOnly ? this.replica : this.app, tenantId, fn, options);
  }

  /** Cross-tenant work as the owner role: no RLS. Keep every use named and rare. */
  async adminQuery<T = Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<T[]> {
    this.assertOwnerRole();
    return this.adminSource.query(sql, params);
  }

  async adminReadQuery<T = Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<T[]> {
    this.assertOwnerRole();
    return this.adminReplicaSource.query(sql, params);
  }

  /** A transaction as the owner role, for sign-up and tenant creation, which precede any tenant context. */
  async adminTransaction<T>(fn: (m: EntityManager) => Promise<T>): Promise<T> {
    this.assertOwnerRole();
    return this.adminSource.transaction(fn);
  }

  private assertOwnerRole(): void {
    if (!this.hasOwnerRole) throw new Error('This process runs without the owner role (no DATABASE_ADMIN_URL)');
  }

  async ping(): Promise<void> {
    await this.app.query('SELECT 1');
  }
}
