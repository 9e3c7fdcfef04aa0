import { createHash } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import type { TypeParsers } from './wire-text-types';

type RawResult = unknown[] | [unknown[], number];

/** TypeORM's `query()` answers `[rows, affected]` for UPDATE and DELETE, bare rows otherwise. */
function isUpdateResult(result: RawResult): result is [unknown[], number] {
  return result.length === 2 && Array.isArray(result[0]) && typeof result[1] === 'number';
}

/** Rows of any statement, SELECT or INSERT/UPDATE/DELETE … RETURNING alike. */
export async function rows<T = Record<string, unknown>>(manager: EntityManager, sql: string, params: unknown[] = []): Promise<T[]> {
  const result = (await manager.query(sql, params)) as RawResult;
  return (isUpdateResult(result) ? result[0] : result) as T[];
}

/** The number of rows an UPDATE or DELETE touched (for INSERT, the rows it returned). */
export async function affected(manager: EntityManager, sql: string, params: unknown[] = []): Promise<number> {
  const result = (await manager.query(sql, params)) as RawResult;
  return isUpdateResult(result) ? result[1] : result.length;
}

/**
 * The number of rows an INSERT wrote, from its command tag: no RETURNING
 * rows to build, gather and count. Needs the manager of a transaction (its
 * query runner).
 */
export async function inserted(manager: EntityManager, sql: string, params: unknown[] = []): Promise<number> {
  if (!manager.queryRunner) throw new Error('inserted() runs in a transaction');
  const result = await manager.queryRunner.query(sql, params, true);
  return result.affected ?? 0;
}

interface PgClientLike {
  query(config: { name?: string; text: string; values: unknown[]; types?: TypeParsers }): Promise<{ rows: unknown[] }>;
}

/**
 * The most statements preparedRows keeps prepared on one pooled connection.
 * Past it a new text runs unnamed (planned on each call): a client cycling
 * through filter shapes and page sizes cannot grow a backend's memory, nor
 * this process's, without bound, while the texts a connection met first, the
 * common ones, stay prepared.
 */
export const MAX_PREPARED_PER_CONNECTION = 256;
/** Per pooled connection, the statement name of each text prepared on it. */
const preparedOn = new WeakMap<PgClientLike, Map<string, string>>();

/** The name `sql` is prepared under on this connection, or undefined once the connection holds its most. */
function statementName(client: PgClientLike, sql: string): string | undefined {
  let prepared = preparedOn.get(client);
  if (!prepared) preparedOn.set(client, (prepared = new Map()));
  let name = prepared.get(sql);
  if (name === undefined && prepared.size < MAX_PREPARED_PER_CONNECTION) {
    name = `s_${createHash('sha1').update(sql).digest('hex').slice(0, 20)}`;
    prepared.set(sql, name);
  }
  return name;
}

/**
 * Rows of a fixed, hot statement through a named prepared statement: PostgreSQL
 * plans it once per connection instead of on every call, which for the
 * per-request principal query was most of its cost. Only for SQL whose text
 * does not vary with input values (each distinct text stays prepared on the
 * pooled connection, up to MAX_PREPARED_PER_CONNECTION). `types` replaces
 * pg's type parsers for this statement's columns (see wire-text-types).
 */
export async function preparedRows<T = Record<string, unknown>>(manager: EntityManager, sql: string, params: unknown[] = [], types?: TypeParsers): Promise<T[]> {
  const client = (manager.queryRunner as unknown as { databaseConnection?: PgClientLike } | undefined)?.databaseConnection;
  if (!client) {
    if (types) throw new Error('preparedRows: type parsers need a pg connection');
    return rows<T>(manager, sql, params);
  }
  const name = statementName(client, sql);
  const result = await client.query({ ...(name ? { name } : {}), text: sql, values: params, ...(types ? { types } : {}) });
  return result.rows as T[];
}
