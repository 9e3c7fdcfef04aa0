import type { EntityManager } from 'typeorm';

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
