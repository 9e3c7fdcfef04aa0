/**
 * What one list endpoint accepts in its query string. Anything not declared
 * here is refused with 400, so a typo never silently widens a result.
 */
export type FilterValueType = 'string' | 'uuid' | 'boolean' | 'datetime' | 'integer' | 'enum';
/**
 * Prowler's lookups. `exact` is read as `eq`. On datetime filters the parser
 * turns `eq` into `date` (Prowler's DateFilter: `filter[inserted_at]=2026-12-01`
 * is that whole UTC day), and a date-only bound covers its whole day
 * (`__lte=2026-12-01` ends at the day's end), so builders only ever see
 * instants and the `date` operator.
 */
export type FilterOperator = 'eq' | 'in' | 'gte' | 'lte' | 'gt' | 'lt' | 'icontains' | 'iexact' | 'ne' | 'date';

export interface FilterSpec {
  type: FilterValueType;
  operators: FilterOperator[];
  values?: readonly string[];
  /**
   * `__in` takes values outside `values` too, which match nothing: Prowler
   * reads those with a plain CharInFilter (findings' status, severity, delta, impact).
   */
  anyValueIn?: boolean;
  /** The plain name takes a comma list, read as `__in` (Prowler's `resources` is a UUIDInFilter under a plain name). */
  list?: boolean;
  /** What the filter does, for the OpenAPI document, where its name does not say it. */
  description?: string;
}

/** A timestamp filter as Prowler has them: a day (`eq`, `__date`) and bounds. */
export const DATE_FILTER: FilterSpec = { type: 'datetime', operators: ['eq', 'date', 'gte', 'lte', 'gt', 'lt'] };

export interface QuerySpec {
  filters?: Record<string, FilterSpec>;
  sorts?: readonly string[];
  defaultSort?: string;
  includes?: readonly string[];
  /** Resource types whose sparse fieldsets may be requested, with their attribute names. */
  fields?: Record<string, readonly string[]>;
  /** Allows `page[disable]=true` (the contract's way to turn pagination off). */
  allowDisablePaging?: boolean;
  /** Allows keyset pagination with `page[cursor]`. */
  allowCursor?: boolean;
  /** Extra plain parameters an endpoint understands (e.g. `search`). */
  extraParameters?: readonly string[];
  pageSizeDefault?: number;
  pageSizeMax?: number;
}

export interface ParsedFilter {
  field: string;
  operator: FilterOperator;
  value: string | number | boolean | Date | Array<string | number | boolean>;
}

export interface ParsedSort {
  field: string;
  descending: boolean;
}

export type ParsedPage =
  | { mode: 'number'; number: number; size: number }
  | { mode: 'cursor'; cursor: string | null; size: number }
  | { mode: 'all' };

export interface ParsedQuery {
  filters: ParsedFilter[];
  sort: ParsedSort[];
  page: ParsedPage;
  include: string[];
  fields: Record<string, string[]>;
  extra: Record<string, string>;
}
