/**
 * What one list endpoint accepts in its query string. Anything not declared
 * here is refused with 400, so a typo never silently widens a result.
 */
export type FilterValueType = 'string' | 'uuid' | 'boolean' | 'datetime' | 'integer' | 'enum';
export type FilterOperator = 'eq' | 'in' | 'gte' | 'lte' | 'gt' | 'lt' | 'icontains' | 'ne';

export interface FilterSpec {
  type: FilterValueType;
  operators: FilterOperator[];
  values?: readonly string[];
}

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
