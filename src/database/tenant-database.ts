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
import { ReplicaRouter } from './replica-router';
import { rlsTransaction, RlsTransactionOptions } from './rls-transaction';
import { currentContext, noteCommittedWrite } from './tenant-context';
import { parseLsn } from './wal-position';

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
    private readonly router: ReplicaRouter,
  ) {
    this.hasOwnerRole = config.database.adminUrl !== '';
  }

  /**
   * A read-only transaction runs on the replica unless ReplicaRouter sends
   * it to the primary (replica down or lagging, or behind this user's own
   * writes); one that meets a dead replica runs again on the primary, so a
   * replica outage never fails a read.
   */
  async transaction<T>(tenantId: string, fn: (m: EntityManager) => Promise<T>, options: RlsTransactionOptions = {}): Promise<T> {
    const context = currentContext();
    // A nested call joins the open transaction, wherever it runs.
    if (!options.readOnly || context?.scope) return rlsTransaction(this.app, tenantId, fn, options);
    if ((await this.router.readTarget(context?.session)) === 'primary') return rlsTransaction(this.app, tenantId, fn, options);
    try {
      return await rlsTransaction(this.replica, tenantId, fn, options);
    } catch (error) {
      if (!this.router.replicaFailed(error)) throw error;
      return rlsTransaction(this.app, tenantId, fn, options);
    }
  }

  /** Cross-tenant work as the owner role: no RLS. Keep every use named and rare. */
  async adminQuery<T = Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<T[]> {
    this.assertOwnerRole();
    return this.adminSource.query(sql, params);
  }

  /** Cross-tenant reads on the replica, routed as read-only transactions are; a write request reads the primary. */
  async adminReadQuery<T = Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<T[]> {
    this.assertOwnerRole();
    const session = currentContext()?.session;
    if (session && !session.readOnly) return this.adminSource.query(sql, params);
    if ((await this.router.readTarget(session)) === 'primary') return this.adminSource.query(sql, params);
    try {
      return await this.adminReplicaSource.query(sql, params);
    } catch (error) {
      if (!this.router.replicaFailed(error)) throw error;
      return this.adminSource.query(sql, params);
    }
  }

  /**
   * A transaction as the owner role, for sign-up and tenant creation, which
   * precede any tenant context. Inside a request that reads-its-writes, the
   * WAL position after the commit is noted like a tenant transaction's.
   */
  async adminTransaction<T>(fn: (m: EntityManager) => Promise<T>): Promise<T> {
    this.assertOwnerRole();
    const result = await this.adminSource.transaction(fn);
    const session = currentContext()?.session;
    if (session && !session.readOnly) {
      const [row] = await this.adminSource.query(`SELECT pg_current_wal_lsn()::text AS lsn`);
      noteCommittedWrite(session, parseLsn(row.lsn));
    }
    return result;
  }

  private assertOwnerRole(): void {
    if (!this.hasOwnerRole) throw new Error('This process runs without the owner role (no DATABASE_ADMIN_URL)');
  }

  /** Reads may be served by a replica of its own (DATABASE_REPLICA_URL), which can be behind the primary. */
  get readsReplica(): boolean {
    return this.router.configured;
  }

  async ping(): Promise<void> {
    await this.app.query('SELECT 1');
  }
}
