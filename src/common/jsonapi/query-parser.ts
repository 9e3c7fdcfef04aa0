import { ApiError } from '../errors/api-error';
import { FilterOperator, FilterSpec, ParsedFilter, ParsedPage, ParsedQuery, QuerySpec } from './query-spec';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const FILTER_KEY = /^filter\[([a-z0-9_]+?)(?:__(in|gte|lte|gt|lt|icontains|iexact|exact|date|ne))?\]$/;
const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;
const DAY_MS = 86_400_000;
const FIELDS_KEY = /^fields\[([a-z0-9-]+)\]$/;
const PAGE_KEY = /^page\[(number|size|disable|cursor)\]$/;
/** Limits the OpenAPI document declares for every list endpoint (src/openapi/query-parameters.ts). */
export const MAX_IN_VALUES = 500;
export const MAX_FILTER_TEXT_LENGTH = 1000;
export const MAX_CURSOR_LENGTH = 512;
const CURSOR = new RegExp(`^[A-Za-z0-9_-]{1,${MAX_CURSOR_LENGTH}}$`);

export const DEFAULT_PAGE_SIZE = 10;
export const MAX_PAGE_SIZE = 100;

function invalid(parameter: string, detail: string): ApiError {
  return ApiError.badRequest('invalid', detail, { parameter });
}

/** Parses a query string (already split into keys by the HTTP server) against an endpoint's spec. */
export function parseQuery(raw: Record<string, unknown>, spec: QuerySpec): ParsedQuery {
  const result: ParsedQuery = { filters: [], sort: [], page: { mode: 'number', number: 1, size: 0 }, include: [], fields: {}, extra: {} };
  const page: Record<string, string> = {};

  for (const [key, rawValue] of Object.entries(raw ?? {})) {
    if (Array.isArray(rawValue)) throw invalid(key, `Parameter '${key}' was given more than once.`);
    const value = String(rawValue ?? '');
    if (value.includes('\u0000')) throw invalid(key, `Parameter '${key}' holds a NUL character.`);

    const filter = FILTER_KEY.exec(key);
    if (filter) {
      const operator = !filter[2] || filter[2] === 'exact' ? 'eq' : (filter[2] as FilterOperator);
      result.filters.push(parseFilter(key, filter[1], operator, value, spec.filters));
      continue;
    }
    const pageKey = PAGE_KEY.exec(key);
    if (pageKey) {
      page[pageKey[1]] = value;
      continue;
    }
    const fieldsKey = FIELDS_KEY.exec(key);
    if (fieldsKey) {
      result.fields[fieldsKey[1]] = parseFields(key, fieldsKey[1], value, spec.fields);
      continue;
    }
    if (key === 'sort') {
      result.sort = parseSort(value, spec.sorts ?? []);
      continue;
    }
    if (key === 'include') {
      result.include = parseInclude(value, spec.includes ?? []);
      continue;
    }
    if (spec.extraParameters?.includes(key)) {
      result.extra[key] = value;
      continue;
    }
    throw invalid(key, `Unknown query parameter '${key}'.`);
  }

  if (result.sort.length === 0 && spec.defaultSort) result.sort = parseSort(spec.defaultSort, [spec.defaultSort.replace(/^-/, '')]);
  result.page = parsePage(page, spec);
  return result;
}

function parseFilter(key: string, field: string, operator: FilterOperator, value: string, specs?: Record<string, FilterSpec>): ParsedFilter {
  const spec = specs?.[field];
  if (!spec) throw invalid(key, `Unknown filter '${field}'.`);
  if (!spec.operators.includes(operator)) throw invalid(key, `Filter '${field}' does not support '${operator}'.`);
  if (operator === 'in' || (operator === 'eq' && spec.list)) {
    const parts = value.split(',').map((p) => p.trim()).filter((p) => p.length > 0);
    if (parts.length === 0) throw invalid(key, `Filter '${key}' needs at least one value.`);
    if (parts.length > MAX_IN_VALUES) throw invalid(key, `Filter '${key}' takes at most ${MAX_IN_VALUES} values.`);
    const itemSpec: FilterSpec = spec.anyValueIn ? { ...spec, type: 'string' } : spec;
    return { field, operator: 'in', value: parts.map((p) => convert(key, p, itemSpec) as string | number | boolean) };
  }
  const converted = convert(key, value, spec);
  if (spec.type === 'datetime') return dateFilter(field, operator, converted as Date, DATE_ONLY.test(value));
  return { field, operator, value: converted };
}

/**
 * A day means the whole UTC day: `eq`/`date` select it, `lte` ends and `gt`
 * starts at its end. Instants are kept as given, except that `eq` on one
 * selects its day (Prowler's `date` lookup).
 */
function dateFilter(field: string, operator: FilterOperator, value: Date, dateOnly: boolean): ParsedFilter {
  const day = new Date(Math.floor(value.getTime() / DAY_MS) * DAY_MS);
  const nextDay = new Date(day.getTime() + DAY_MS);
  if (operator === 'eq' || operator === 'date') return { field, operator: 'date', value: day };
  if (!dateOnly) return { field, operator, value };
  if (operator === 'lte') return { field, operator: 'lt', value: nextDay };
  if (operator === 'gt') return { field, operator: 'gte', value: nextDay };
  return { field, operator, value: day };
}

function convert(key: string, value: string, spec: FilterSpec): string | number | boolean | Date {
  switch (spec.type) {
    case 'uuid':
      if (!UUID.test(value)) throw invalid(key, `'${truncate(value)}' is not a valid UUID.`);
      return value.toLowerCase();
    case 'boolean':
      if (value === 'true') return true;
      if (value === 'false') return false;
      throw invalid(key, `'${truncate(value)}' is not a boolean (use true or false).`);
    case 'integer': {
      if (!/^-?\d{1,15}$/.test(value)) throw invalid(key, `'${truncate(value)}' is not an integer.`);
      return Number(value);
    }
    case 'datetime': {
      const date = new Date(DATE_ONLY.test(value) ? `${value}T00:00:00Z` : value);
      if (Number.isNaN(date.getTime()) || value.length > 40) throw invalid(key, `'${truncate(value)}' is not a date (use ISO 8601).`);
      return date;
    }
    case 'enum':
      if (!spec.values?.includes(value)) throw invalid(key, `'${truncate(value)}' is not one of ${spec.values?.join(', ')}.`);
      return value;
    case 'string':
      if (value.length > MAX_FILTER_TEXT_LENGTH) throw invalid(key, `The value of '${key}' is too long.`);
      return value;
  }
}

function parseSort(value: string, allowed: readonly string[]) {
  const parts = value.split(',').map((p) => p.trim()).filter(Boolean);
  if (parts.length === 0) throw invalid('sort', 'sort needs at least one field.');
  return parts.map((part) => {
    const descending = part.startsWith('-');
    const field = descending ? part.slice(1) : part;
    if (!allowed.includes(field)) throw invalid('sort', `Cannot sort by '${truncate(field)}'. Allowed: ${allowed.join(', ') || 'none'}.`);
    return { field, descending };
  });
}

function parseInclude(value: string, allowed: readonly string[]): string[] {
  const parts = value.split(',').map((p) => p.trim()).filter(Boolean);
  for (const part of parts) {
    if (!allowed.includes(part)) throw invalid('include', `Cannot include '${truncate(part)}'. Allowed: ${allowed.join(', ') || 'none'}.`);
  }
  return [...new Set(parts)];
}

function parseFields(key: string, type: string, value: string, allowed?: Record<string, readonly string[]>): string[] {
  const known = allowed?.[type];
  if (!known) throw invalid(key, `Sparse fieldsets are not available for '${type}'.`);
  const parts = value.split(',').map((p) => p.trim()).filter(Boolean);
  for (const part of parts) {
    if (!known.includes(part)) throw invalid(key, `'${truncate(part)}' is not a field of '${type}'.`);
  }
  return parts;
}

function parsePage(page: Record<string, string>, spec: QuerySpec): ParsedPage {
  const max = spec.pageSizeMax ?? MAX_PAGE_SIZE;
  let size = spec.pageSizeDefault ?? DEFAULT_PAGE_SIZE;
  if (page.size !== undefined) {
    if (!/^\d{1,6}$/.test(page.size) || Number(page.size) < 1) throw invalid('page[size]', 'page[size] must be a positive integer.');
    size = Number(page.size);
    if (size > max) throw invalid('page[size]', `page[size] must be at most ${max}.`);
  }
  if (page.disable !== undefined) {
    if (!spec.allowDisablePaging) throw invalid('page[disable]', 'This endpoint does not support page[disable].');
    if (page.disable !== 'true' && page.disable !== 'false') throw invalid('page[disable]', 'page[disable] must be true or false.');
    if (page.disable === 'true') return { mode: 'all' };
  }
  if (page.cursor !== undefined) {
    if (!spec.allowCursor) throw invalid('page[cursor]', 'This endpoint does not support page[cursor].');
    if (page.number !== undefined) throw invalid('page[number]', 'Use either page[number] or page[cursor], not both.');
    if (page.cursor !== '' && !CURSOR.test(page.cursor)) throw invalid('page[cursor]', 'page[cursor] is not a valid cursor.');
    return { mode: 'cursor', cursor: page.cursor || null, size };
  }
  let number = 1;
  if (page.number !== undefined) {
    if (!/^\d{1,9}$/.test(page.number) || Number(page.number) < 1) throw invalid('page[number]', 'page[number] must be a positive integer.');
    number = Number(page.number);
  }
  return { mode: 'number', number, size };
}

function truncate(value: string): string {
  return value.length > 60 ? `${value.slice(0, 57)}...` : value;
}
