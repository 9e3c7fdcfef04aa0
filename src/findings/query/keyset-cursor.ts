import { ApiError } from '../../common/errors/api-error';
import { ParsedSort } from '../../common/jsonapi/query-spec';
import { isUuid } from '../../database/uuid';
import { SqlConditions } from './sql-conditions';

/** How a cursor carries a timestamp key (JSON of a Date): anything else is refused before it reaches PostgreSQL. */
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** A sortable key: the SQL expression and how its values are checked when a cursor comes back. */
export interface SortKey {
  sql: string;
  /** `timestamp` keys are compared at millisecond precision (`date_trunc('milliseconds', …)`), the precision a cursor carries. */
  kind: 'text' | 'integer' | 'uuid' | 'timestamp';
}

export interface OrderedKey extends SortKey {
  descending: boolean;
}

/**
 * The ORDER BY keys for a parsed sort, ending with the id so every row has a
 * distinct position (which keyset paging needs). Sorts whose key is the id
 * itself (such as inserted_at, which is the id's time) collapse into it.
 */
export function orderKeys(sort: readonly ParsedSort[], keys: Record<string, SortKey>, idSql: string): OrderedKey[] {
  const ordered: OrderedKey[] = [];
  for (const s of sort) {
    const key = keys[s.field];
    if (key.sql === idSql) {
      ordered.push({ ...key, descending: s.descending });
      return ordered;
    }
    ordered.push({ ...key, descending: s.descending });
  }
  const last = ordered[ordered.length - 1];
  ordered.push({ sql: idSql, kind: 'uuid', descending: last ? last.descending : true });
  return ordered;
}

export function orderBySql(keys: readonly OrderedKey[]): string {
  return keys.map((k) => `${k.sql} ${k.descending ? 'DESC' : 'ASC'}`).join(', ');
}

/** The signature ties a cursor to its sort: a cursor replayed under another sort is refused, not misread. */
function signature(keys: readonly OrderedKey[]): string {
  return keys.map((k) => `${k.descending ? '-' : ''}${k.sql}`).join(',');
}

export function encodeCursor(keys: readonly OrderedKey[], values: unknown[]): string {
  return Buffer.from(JSON.stringify({ s: signature(keys), k: values })).toString('base64url');
}

function badCursor(): ApiError {
  return ApiError.badRequest('invalid', 'page[cursor] is not a cursor of this list and sort; start again without it.', { parameter: 'page[cursor]' });
}

export function decodeCursor(keys: readonly OrderedKey[], cursor: string): unknown[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw badCursor();
  }
  const { s, k } = (parsed ?? {}) as { s?: unknown; k?: unknown };
  if (s !== signature(keys) || !Array.isArray(k) || k.length !== keys.length) throw badCursor();
  keys.forEach((key, index) => {
    const value = k[index];
    const valid =
      key.kind === 'uuid'
        ? isUuid(value)
        : key.kind === 'integer'
          ? Number.isInteger(value)
          : key.kind === 'timestamp'
            ? typeof value === 'string' && ISO_INSTANT.test(value) && !Number.isNaN(Date.parse(value))
            : typeof value === 'string' && value.length <= 1000;
    if (!valid) throw badCursor();
  });
  return k;
}

/**
 * "After this row" in the given order: (k1 > v1) OR (k1 = v1 AND k2 > v2) …,
 * each comparison in its own key's direction, so mixed directions work too.
 */
export function addKeysetCondition(conditions: SqlConditions, keys: readonly OrderedKey[], values: readonly unknown[]): void {
  const placeholders = values.map((value, index) => `${conditions.param(value)}::${castOf(keys[index])}`);
  if (keys.every((key) => key.descending === keys[0].descending)) {
    // One direction: a row comparison, which an index on the same keys can seek to.
    conditions.add(`(${keys.map((k) => k.sql).join(', ')}) ${keys[0].descending ? '<' : '>'} (${placeholders.join(', ')})`);
    return;
  }
  const alternatives = keys.map((key, index) => {
    const equalities = keys.slice(0, index).map((prior, j) => `${prior.sql} = ${placeholders[j]}`);
    return [...equalities, `${key.sql} ${key.descending ? '<' : '>'} ${placeholders[index]}`].join(' AND ');
  });
  conditions.add(`(${alternatives.map((a) => `(${a})`).join(' OR ')})`);
}

function castOf(key: SortKey): string {
  return key.kind === 'uuid' ? 'uuid' : key.kind === 'integer' ? 'int' : key.kind === 'timestamp' ? 'timestamptz' : 'text';
}

/** The cursor after a page's last row, or null when nothing follows it. */
export function nextCursor<Row>(keys: readonly OrderedKey[], page: readonly Row[], hasMore: boolean, valuesOf: (row: Row) => unknown[]): string | null {
  if (!hasMore || page.length === 0) return null;
  return encodeCursor(keys, valuesOf(page[page.length - 1]));
}
