import type { ParsedFilter, ParsedSort, QuerySpec } from '../common/jsonapi/query-spec';
import { listDatasets } from './clause/dataset-catalog';
import { FILTER_TYPES } from './rls-rule.dto';
import { RULE_FIELDS } from './rls-rule.resource';
import { RULE_TYPE } from './rls-rule-body';

export const RULE_LIST_QUERY: QuerySpec = {
  filters: {
    id: { type: 'uuid', operators: ['eq', 'in'] },
    name: { type: 'string', operators: ['eq', 'icontains'] },
    filter_type: { type: 'enum', operators: ['eq'], values: FILTER_TYPES },
    group_key: { type: 'string', operators: ['eq', 'icontains'] },
    roles: { type: 'uuid', operators: ['eq', 'in'] },
    tables: { type: 'enum', operators: ['eq', 'in'], values: listDatasets().map((dataset) => dataset.name) },
  },
  sorts: ['name', 'filter_type', 'group_key', 'inserted_at', 'updated_at'],
  defaultSort: 'name',
  fields: { [RULE_TYPE]: RULE_FIELDS },
};

export const RULE_DETAIL_QUERY: QuerySpec = { fields: { [RULE_TYPE]: RULE_FIELDS } };

/** Only `filter[id__in]`, which bulk delete requires. */
export const BULK_DELETE_QUERY: QuerySpec = { filters: { id: { type: 'uuid', operators: ['in'] } } };

export interface WhereClause {
  sql: string;
  params: unknown[];
}

// Keys come from the spec above, never from the request: the parser refuses
// any filter or sort it does not declare.
const COLUMNS: Record<string, string> = {
  id: 'r.id',
  name: 'r.name',
  filter_type: 'r.filter_type',
  group_key: 'r.group_key',
  inserted_at: 'r.inserted_at',
  updated_at: 'r.updated_at',
};

/** The list's WHERE conditions (joined with AND, "true" when none), numbered from $1. */
export function ruleListWhere(filters: readonly ParsedFilter[]): WhereClause {
  const params: unknown[] = [];
  const parameter = (value: unknown): string => {
    params.push(value);
    return `$${params.length}`;
  };
  const conditions = filters.map((filter) => {
    const values = Array.isArray(filter.value) ? filter.value : [filter.value];
    switch (filter.field) {
      case 'roles':
        return `EXISTS (SELECT 1 FROM rls_rule_roles rr WHERE rr.rule_id = r.id AND rr.role_id = ANY(${parameter(values)}::uuid[]))`;
      case 'tables':
        return `EXISTS (SELECT 1 FROM rls_rule_tables rt WHERE rt.rule_id = r.id AND rt.table_name = ANY(${parameter(values)}::text[]))`;
      default: {
        const column = COLUMNS[filter.field];
        if (filter.operator === 'icontains') return `${column} ILIKE '%' || ${parameter(escapeLike(String(filter.value)))} || '%'`;
        if (filter.operator === 'in') return `${column} = ANY(${parameter(values)})`;
        return `${column} = ${parameter(filter.value)}`;
      }
    }
  });
  return { sql: conditions.length > 0 ? conditions.join(' AND ') : 'true', params };
}

/** ORDER BY for the parsed sort, with the id last so pages are stable. */
export function ruleListOrder(sort: readonly ParsedSort[]): string {
  return [...sort.map((item) => `${COLUMNS[item.field]} ${item.descending ? 'DESC' : 'ASC'}`), 'r.id ASC'].join(', ');
}

/** ILIKE's wildcards in a search text match themselves. */
export function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (character) => `\\${character}`);
}
