import type { JsonSchema } from '../common/jsonapi/attribute-schema';
import { DEFAULT_PAGE_SIZE, MAX_CURSOR_LENGTH, MAX_FILTER_TEXT_LENGTH, MAX_IN_VALUES, MAX_PAGE_SIZE } from '../common/jsonapi/query-parser';
import type { FilterOperator, FilterSpec, QuerySpec } from '../common/jsonapi/query-spec';

export interface QueryParameter {
  name: string;
  in: 'query';
  required: false;
  description?: string;
  schema: JsonSchema;
  /** `filter[...]` keys hold brackets: sent as they are, never exploded. */
  style?: 'form';
  explode?: false;
}

/** How each operator appears in a parameter name (`eq` is the plain name). */
const SUFFIX: Record<FilterOperator, string> = {
  eq: '', date: '__date', in: '__in', gte: '__gte', lte: '__lte', gt: '__gt', lt: '__lt', icontains: '__icontains', iexact: '__iexact', ne: '__ne',
};

/** The schema of one value of a filter, as the parser checks it. */
function valueSchema(spec: FilterSpec, operator: FilterOperator): JsonSchema {
  switch (spec.type) {
    case 'uuid':
      return { type: 'string', format: 'uuid' };
    case 'boolean':
      return { type: 'boolean' };
    case 'integer':
      return { type: 'integer' };
    case 'datetime':
      return operator === 'date'
        ? { type: 'string', format: 'date' }
        : { type: 'string', maxLength: 40, description: 'ISO 8601 date or date-time; a date alone covers its whole UTC day.' };
    case 'enum':
      return { type: 'string', enum: [...(spec.values ?? [])] };
    case 'string':
      return { type: 'string', maxLength: MAX_FILTER_TEXT_LENGTH };
  }
}

function filterParameters(field: string, spec: FilterSpec): QueryParameter[] {
  return spec.operators.map((operator) => {
    const list = operator === 'in' || (operator === 'eq' && spec.list);
    const item = valueSchema(spec.anyValueIn && list ? { ...spec, type: 'string' } : spec, operator);
    const schema: JsonSchema = list
      ? { type: 'string', description: `Comma-separated, at most ${MAX_IN_VALUES} values${spec.values ? ` (${spec.values.join(', ')})` : ''}.` }
      : item;
    const name = `filter[${field}${SUFFIX[operator]}]`;
    return { name, in: 'query', required: false, ...(spec.description && { description: spec.description }), schema, style: 'form', explode: false };
  });
}

function commaList(values: readonly string[], description: string): JsonSchema {
  return { type: 'string', description: `${description} Comma-separated, from: ${values.join(', ')}.` };
}

/** Whether the spec describes a list (a page of rows) rather than one resource. */
function isList(spec: QuerySpec): boolean {
  return Boolean(spec.filters || spec.sorts || spec.allowCursor || spec.allowDisablePaging || spec.pageSizeMax);
}

/**
 * The query parameters an endpoint's QuerySpec accepts, with the same
 * operators, values and bounds the parser enforces (src/common/jsonapi/query-parser.ts).
 */
export function queryParameters(spec: QuerySpec): QueryParameter[] {
  const parameters: QueryParameter[] = [];
  for (const [field, filter] of Object.entries(spec.filters ?? {})) parameters.push(...filterParameters(field, filter));
  if (spec.sorts?.length) {
    const values = spec.sorts.flatMap((field) => [field, `-${field}`]);
    parameters.push({ name: 'sort', in: 'query', required: false, schema: commaList(values, `Sort order${spec.defaultSort ? ` (default ${spec.defaultSort})` : ''}.`) });
  }
  if (spec.includes?.length) parameters.push({ name: 'include', in: 'query', required: false, schema: commaList(spec.includes, 'Related resources to include.') });
  for (const [type, fields] of Object.entries(spec.fields ?? {})) {
    parameters.push({ name: `fields[${type}]`, in: 'query', required: false, schema: commaList(fields, `Sparse fieldset of ${type}.`), style: 'form', explode: false });
  }
  for (const name of spec.extraParameters ?? []) parameters.push({ name, in: 'query', required: false, schema: { type: 'string', maxLength: MAX_FILTER_TEXT_LENGTH } });
  if (isList(spec)) {
    const max = spec.pageSizeMax ?? MAX_PAGE_SIZE;
    parameters.push({ name: 'page[number]', in: 'query', required: false, schema: { type: 'integer', minimum: 1, maximum: 999999999 }, style: 'form', explode: false });
    parameters.push({
      name: 'page[size]', in: 'query', required: false,
      schema: { type: 'integer', minimum: 1, maximum: max, default: Math.min(spec.pageSizeDefault ?? DEFAULT_PAGE_SIZE, max) },
      style: 'form', explode: false,
    });
    if (spec.allowCursor) {
      parameters.push({
        name: 'page[cursor]', in: 'query', required: false, description: 'Keyset paging: empty for the first page, then links.next’s cursor.',
        schema: { type: 'string', pattern: `^[A-Za-z0-9_-]{0,${MAX_CURSOR_LENGTH}}$` }, style: 'form', explode: false,
      });
    }
    if (spec.allowDisablePaging) parameters.push({ name: 'page[disable]', in: 'query', required: false, schema: { type: 'boolean' }, style: 'form', explode: false });
  }
  return parameters;
}
