import { ParsedFilter, ParsedPage, ParsedQuery, ParsedSort, QuerySpec } from '../common/jsonapi/query-spec';
import { tenantManager } from '../database/tenant-context';
import { rows } from '../database/sql';

/**
 * SQL for list endpoints from a parsed JSON:API query: filters, sorting and a
 * page with its total. Column expressions come from code, never from input;
 * every value travels as a parameter.
 */
export class SqlParams {
  readonly values: unknown[] = [];

  /** Adds a value and answers its placeholder (`$n`). */
  add(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
}

/** A filter field maps to a column expression, or to a builder for conditions a plain comparison cannot express. */
export type FilterColumn = string | ((filter: ParsedFilter, params: SqlParams) => string);

export interface ListColumns {
  filters: Record<string, FilterColumn>;
  sorts: Record<string, string>;
  /** Appended to every ORDER BY so that pages never overlap. */
  tieBreaker: string;
}

const COMPARISONS: Record<string, string> = { gte: '>=', lte: '<=', gt: '>', lt: '<', ne: 'IS DISTINCT FROM', eq: '=' };

export function filterConditions(query: ParsedQuery, spec: QuerySpec, columns: ListColumns, params: SqlParams): string[] {
  return query.filters.map((filter) => {
    const column = columns.filters[filter.field];
    if (column === undefined) throw new Error(`No column for filter '${filter.field}'`);
    if (typeof column === 'function') return column(filter, params);
    return comparison(column, filter, spec.filters?.[filter.field]?.type ?? 'string', params);
  });
}

function comparison(column: string, filter: ParsedFilter, type: string, params: SqlParams): string {
  if (filter.operator === 'in') return `${column} = ANY(${params.add(filter.value)}::${type === 'uuid' ? 'uuid' : 'text'}[])`;
  if (filter.operator === 'icontains') return `${column} ILIKE ${params.add(containsPattern(String(filter.value)))}`;
  if (filter.operator === 'iexact') return `lower(${column}) = lower(${params.add(filter.value)})`;
  // The parser turns a day (`filter[inserted_at]=2025-01-31`, `__date`) into this operator.
  if (filter.operator === 'date') {
    const day = params.add(filter.value);
    return `(${column} >= ${day}::timestamptz AND ${column} < ${day}::timestamptz + interval '1 day')`;
  }
  return `${column} ${COMPARISONS[filter.operator]} ${params.add(filter.value)}`;
}

/** An ILIKE pattern matching the text anywhere, with the user's own wildcards escaped. */
export function containsPattern(text: string): string {
  return `%${text.replace(/[\\%_]/g, '\\$&')}%`;
}

export function orderBy(sort: ParsedSort[], columns: ListColumns): string {
  const keys = sort.map((s) => `${columns.sorts[s.field]} ${s.descending ? 'DESC' : 'ASC'}`);
  return [...keys, `${columns.tieBreaker} ASC`].join(', ');
}

/** Runs one statement and answers its rows: in the tenant transaction, or a named cross-tenant read. */
export type RunSql = <T>(sql: string, params: unknown[]) => Promise<T[]>;

export const inTenantTransaction: RunSql = (sql, params) => rows(tenantManager(), sql, params);

export interface PagedListSql {
  /** The table with its alias, e.g. `providers p`. */
  from: string;
  alias: string;
  /** The row's own columns, read for every match: keep them cheap. */
  columns: string;
  /** Per-row subqueries over the alias (relationship ids), run for the page's rows only. */
  related?: string;
  where: string[];
  order: string;
  page: ParsedPage;
  params: SqlParams;
}

/**
 * One page of rows and the total in one round trip. The page is cut from the
 * filtered table first, with the total as a window count and each row's place
 * in the order; the related subqueries then run for those rows only.
 */
export async function pagedList<Row>(sql: PagedListSql, run: RunSql = inTenantTransaction): Promise<{ rows: Row[]; count: number }> {
  const where = sql.where.length > 0 ? `WHERE ${sql.where.join(' AND ')}` : '';
  const filterValues = [...sql.params.values];
  const limit = pageLimit(sql.page, sql.params);
  const found = await run<Row & { total_count: string }>(
    `SELECT ${sql.alias}.*${sql.related ? `, ${sql.related}` : ''}
       FROM (SELECT ${sql.columns}, count(*) OVER () AS total_count, row_number() OVER (ORDER BY ${sql.order}) AS list_position
               FROM ${sql.from} ${where}
              ORDER BY list_position ${limit}) ${sql.alias}
      ORDER BY ${sql.alias}.list_position`,
    sql.params.values,
  );
  if (found.length > 0) return { rows: found, count: Number(found[0].total_count) };
  if (sql.page.mode !== 'number' || sql.page.number === 1) return { rows: [], count: 0 };
  // A page past the end returns no row to carry the total; count separately.
  const counted = await run<{ count: string }>(`SELECT count(*) AS count FROM ${sql.from} ${where}`, filterValues);
  return { rows: [], count: Number(counted[0].count) };
}

function pageLimit(page: ParsedPage, params: SqlParams): string {
  if (page.mode === 'all') return '';
  const size = page.size;
  const offset = page.mode === 'number' ? (page.number - 1) * page.size : 0;
  return `LIMIT ${params.add(size)} OFFSET ${params.add(offset)}`;
}
