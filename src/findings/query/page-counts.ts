import type { EntityManager } from 'typeorm';
import { rows } from '../../database/sql';
import { SqlConditions } from './sql-conditions';

/**
 * Past this many rows a page-number count stops counting: an exact count(*)
 * over a large tenant costs several times the page itself. The meta then says
 * `count_exact: false` and `count` is a lower bound.
 */
export const COUNT_CAP = 10_000;

export interface PageCount {
  count: number;
  exact: boolean;
}

/** Counts rows of `from` (which must alias its table so `conditions` apply) up to `cap`. */
export async function cappedCount(manager: EntityManager, from: string, conditions: SqlConditions, cap = COUNT_CAP): Promise<PageCount> {
  const [row] = await rows<{ count: number }>(
    manager,
    `SELECT count(*)::int AS count FROM (SELECT 1 FROM ${from} ${conditions.where()} LIMIT ${cap + 1}) capped`,
    conditions.params,
  );
  return row.count > cap ? { count: cap, exact: false } : { count: row.count, exact: true };
}

/**
 * A page that is not full and not past the end tells the count by itself:
 * everything before it plus what it holds.
 */
export function countFromShortPage(offset: number, pageRows: number, size: number): PageCount | null {
  return pageRows > 0 && pageRows < size ? { count: offset + pageRows, exact: true } : offset === 0 && pageRows === 0 ? { count: 0, exact: true } : null;
}

export function pageNumberMeta(page: { number: number; size: number }, count: PageCount): Record<string, unknown> {
  return {
    pagination: { page: page.number, pages: Math.max(1, Math.ceil(count.count / page.size)), count: count.count, count_exact: count.exact },
  };
}
