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

interface PgClientLike {
  query(config: { name: string; text: string; values: unknown[]; types?: TypeParsers }): Promise<{ rows: unknown[] }>;
}

const statementNames = new Map<string, string>();

function statementName(sql: string): string {
  let name = statementNames.get(sql);
  if (!name) {
    name = `s_${createHash('sha1').update(sql).digest('hex').slice(0, 20)}`;
    statementNames.set(sql, name);
  }
  return name;
}

/**
 * Rows of a fixed, hot statement through a named prepared statement: PostgreSQL
 * plans it once per connection instead of on every call, which for the
 * per-request principal query was most of its cost. Only for SQL whose text
 * does not vary with input (each distinct text stays prepared on every
 * pooled connection). `types` replaces pg's type parsers for this statement's
 * columns (see wire-text-types).
 */
export async function preparedRows<T = Record<string, unknown>>(manager: EntityManager, sql: string, params: unknown[] = [], types?: TypeParsers): Promise<T[]> {
  const client = (manager.queryRunner as unknown as { databaseConnection?: PgClientLike } | undefined)?.databaseConnection;
  if (!client) {
    if (types) throw new Error('preparedRows: type parsers need a pg connection');
    return rows<T>(manager, sql, params);
  }
  const result = await client.query({ name: statementName(sql), text: sql, values: params, ...(types ? { types } : {}) });
  return result.rows as T[];
}
