import type { DataSource, EntityManager, QueryRunner } from 'typeorm';
import { Logger } from '@nestjs/common';
import { currentContext, noteCommittedWrite, Principal, ReadWriteSession, runWithContext, TenantScope } from './tenant-context';
import { parseLsn } from './wal-position';

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const logger = new Logger('rlsTransaction');

export interface RlsTransactionOptions {
  readOnly?: boolean;
  principal?: Principal;
  requestId?: string;
  /** A statement sent in the same round trip as BEGIN and the tenant setting; its rows land in `scope.openingRows`. */
  opening?: OpeningStatement;
}

/**
 * An SQL-level prepared statement (created once per pooled connection) and
 * its EXECUTE with literal arguments the caller has already validated (UUIDs).
 * It lets a request load its principal without a round trip of its own.
 */
export interface OpeningStatement {
  name: string;
  prepare: string;
  execute: string;
}

interface PgResult {
  rows: Record<string, unknown>[];
}

interface PgClient {
  query(text: string): Promise<PgResult | PgResult[]>;
}

/** Pooled connections on which each opening statement is already prepared. */
const preparedOn = new WeakMap<PgClient, Set<string>>();

/**
 * Runs fn inside one transaction whose first statement binds the tenant
 * (transaction-local, so a pooled connection never carries it into the next
 * user). The same helper serves requests, jobs, scripts and tests.
 *
 * Nested calls for the same tenant join the open transaction and never
 * release a runner they did not create; a nested call for another tenant is
 * refused.
 */
export async function rlsTransaction<T>(
  dataSource: DataSource,
  tenantId: string,
  fn: (manager: EntityManager) => Promise<T>,
  options: RlsTransactionOptions = {},
): Promise<T> {
  if (typeof tenantId !== 'string' || !UUID_PATTERN.test(tenantId)) {
    throw new Error('rlsTransaction needs a tenant id in UUID form');
  }
  const outer = currentContext()?.scope;
  if (outer) {
    if (outer.tenantId !== tenantId) throw new Error('A tenant transaction cannot open another tenant inside it');
    if (outer.readOnly && !options.readOnly) throw new Error('A read-only tenant transaction cannot open a writable one');
    return fn(outer.manager);
  }

  const session = currentContext()?.session;
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  let releaseError: Error | undefined;
  const scope: TenantScope = {
    tenantId,
    manager: runner.manager,
    readOnly: options.readOnly === true,
    afterCommit: [],
    principal: options.principal,
  };
  try {
    await begin(runner, scope, options.opening);
    let result: T;
    try {
      result = await runWithContext({ ...currentContext(), scope }, () => fn(runner.manager));
      if (session && !scope.readOnly) await commitNotingPosition(runner, session);
      else await runner.query('COMMIT');
    } catch (error) {
      await rollbackQuietly(runner).catch((rollbackError: Error) => {
        releaseError = rollbackError;
      });
      throw error;
    }
    await runAfterCommitHooks(scope);
    return result;
  } catch (error) {
    // A connection whose transaction state is unknown is destroyed, not pooled.
    if (!releaseError && isConnectionLevelError(error)) releaseError = error as Error;
    throw error;
  } finally {
    await releaseRunner(runner, releaseError);
  }
}

/** The same transaction wrapper, with the principal attached for permission and visibility checks. */
export function principalTransaction<T>(
  dataSource: DataSource,
  principal: Principal,
  fn: (manager: EntityManager) => Promise<T>,
  readOnly = false,
): Promise<T> {
  return rlsTransaction(dataSource, principal.tenantId, fn, { principal, readOnly });
}

/**
 * One round trip: the tenant id was checked against UUID_PATTERN, so it is
 * safe as a literal, and the simple-query protocol allows several statements.
 */
async function begin(runner: QueryRunner, scope: TenantScope, opening?: OpeningStatement): Promise<void> {
  const statements = [`BEGIN${scope.readOnly ? ' READ ONLY' : ''}`, `SELECT set_config('api.tenant_id', '${scope.tenantId}', true)`];
  const client = (runner as unknown as { databaseConnection?: PgClient }).databaseConnection;
  if (!opening || !client) {
    await runner.query(statements.join('; '));
    return;
  }
  const prepared = preparedOn.get(client) ?? new Set<string>();
  const needsPrepare = !prepared.has(opening.name);
  const results = await client.query([...(needsPrepare ? [opening.prepare] : []), ...statements, opening.execute].join('; '));
  if (needsPrepare) {
    prepared.add(opening.name);
    preparedOn.set(client, prepared);
  }
  const list = Array.isArray(results) ? results : [results];
  scope.openingRows = list[list.length - 1].rows;
}

/**
 * COMMIT in the round trip that also tells whether the transaction wrote
 * and where the primary's WAL stands once it is committed: a position at or
 * past this commit's record, which a replica must have replayed before it
 * may serve this user's next read.
 */
async function commitNotingPosition(runner: QueryRunner, session: ReadWriteSession): Promise<void> {
  const client = (runner as unknown as { databaseConnection?: PgClient }).databaseConnection;
  if (!client) {
    await runner.query('COMMIT');
    return;
  }
  const results = await client.query(
    `SELECT pg_current_xact_id_if_assigned() IS NOT NULL AS wrote; COMMIT; SELECT pg_current_wal_lsn()::text AS lsn`,
  );
  const [wrote, , position] = results as PgResult[];
  if (wrote.rows[0].wrote === true) noteCommittedWrite(session, parseLsn(String(position.rows[0].lsn)));
}

async function rollbackQuietly(runner: QueryRunner): Promise<void> {
  await runner.query('ROLLBACK');
}

async function runAfterCommitHooks(scope: TenantScope): Promise<void> {
  for (const hook of scope.afterCommit) {
    try {
      await hook();
    } catch (error) {
      // The transaction is committed; a failing hook must not turn a success into an error.
      logger.warn(`after-commit hook failed: ${(error as Error).message}`);
    }
  }
}

async function releaseRunner(runner: QueryRunner, error?: Error): Promise<void> {
  const postgresRunner = runner as QueryRunner & { releasePostgresConnection?: (err?: Error) => Promise<void> };
  if (error && postgresRunner.releasePostgresConnection) {
    await postgresRunner.releasePostgresConnection(error);
    return;
  }
  await runner.release();
}

function isConnectionLevelError(error: unknown): boolean {
  const code = (error as { code?: string })?.code;
  // Class 08 (connection exception) and 57P (operator intervention) leave the session unusable.
  return typeof code === 'string' && (code.startsWith('08') || code.startsWith('57P'));
}
