import { AsyncLocalStorage } from 'node:async_hooks';
import type { EntityManager } from 'typeorm';
import type { WalPosition } from './wal-position';

/** What one request or job knows about who it runs for, kept in AsyncLocalStorage. */
export interface Principal {
  userId: string;
  tenantId: string;
  /** The user's email once proven by a mailed token; absent while unproven, so nothing may trust it. */
  verifiedEmail?: string;
  /** The user's first role in the tenant (earliest assignment), or null when they hold none. */
  roleId: string | null;
  roleIds: string[];
  permissions: ReadonlySet<string>;
  membershipRole: 'owner' | 'member' | null;
  /** null means every provider of the tenant; otherwise the providers the role may see. */
  visibleProviderIds: ReadonlySet<string> | null;
  /**
   * The tenant's row filter rules version as read with the principal (null:
   * the tenant never had a rule); absent when it was not read with it.
   */
  rulesVersion?: string | null;
}

export interface TenantScope {
  tenantId: string;
  manager: EntityManager;
  readOnly: boolean;
  afterCommit: Array<() => Promise<void> | void>;
  principal?: Principal;
  /** Rows of the statement sent with BEGIN (see OpeningStatement in rls-transaction.ts). */
  openingRows?: Record<string, unknown>[];
}

export interface RequestContext {
  requestId?: string;
  scope?: TenantScope;
  /** Present while an authenticated request runs with a separate read replica configured. */
  session?: ReadWriteSession;
}

/**
 * Whose request this is, for read-your-writes: a write request notes the WAL
 * position its commits reached, a read request finds out once where it may read.
 */
export interface ReadWriteSession {
  userId: string;
  tenantId: string;
  /** GET/HEAD: reads only, on the replica when it has caught up with this user's writes. */
  readOnly: boolean;
  /** The request acts across the user's tenants (tenant switching, creation): its writes count for every tenant of the user. */
  acrossTenants: boolean;
  /** The highest WAL position a committed write of this request reached; null while none did. */
  committedAt: WalPosition | null;
  /** Where this read request reads, decided once (see ReplicaRouter.readTarget). */
  readTarget?: Promise<'replica' | 'primary'>;
}

/** Notes that a write of the running request committed at this WAL position. */
export function noteCommittedWrite(session: ReadWriteSession, position: WalPosition): void {
  if (session.committedAt === null || position > session.committedAt) session.committedAt = position;
}

const storage = new AsyncLocalStorage<RequestContext>();

export function runWithContext<T>(context: RequestContext, fn: () => T): T {
  return storage.run(context, fn);
}

export function currentContext(): RequestContext | undefined {
  return storage.getStore();
}

/**
 * The tenant transaction of the running request or job. Throws rather than
 * falling back to an unscoped connection: tenant data is never read without it.
 */
export function tenantScope(): TenantScope {
  const scope = storage.getStore()?.scope;
  if (!scope) {
    throw new Error(
      'No tenant transaction is active. Tenant data can be read only inside a request handled by ' +
        'TenantInterceptor or inside rlsTransaction(tenantId, fn).',
    );
  }
  return scope;
}

export function tenantManager(): EntityManager {
  return tenantScope().manager;
}

export function currentPrincipal(): Principal {
  const principal = tenantScope().principal;
  if (!principal) throw new Error('No authenticated principal in this tenant transaction.');
  return principal;
}

/** Runs after the surrounding tenant transaction commits; dropped if it rolls back. */
export function afterCommit(hook: () => Promise<void> | void): void {
  tenantScope().afterCommit.push(hook);
}
