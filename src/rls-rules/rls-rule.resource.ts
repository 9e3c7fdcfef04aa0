import { boolean, dateTime, listOf, nullable, objectOf, oneOf, text } from '../common/jsonapi/attribute-schema';
import type { ResourceDefinition } from '../common/jsonapi/resource-definition';
import type { FilterType } from './clause/rule-combiner';
import type { Dataset } from './clause/dataset-catalog';
import { RULE_TYPE, TABLE_TYPE } from './rls-rule-body';

export interface RlsRuleRow {
  id: string;
  name: string;
  description: string | null;
  filter_type: FilterType;
  group_key: string | null;
  clause: string;
  role_ids: string[];
  tables: string[];
  created_by: string | null;
  changed_by: string | null;
  inserted_at: Date;
  updated_at: Date;
}

export const RULE_FIELDS = [
  'name',
  'description',
  'filter_type',
  'group_key',
  'clause',
  'inserted_at',
  'updated_at',
  'roles',
  'tables',
  'created_by',
  'changed_by',
] as const;

export const rlsRuleResource: ResourceDefinition<RlsRuleRow> = {
  schema: {
    name: text,
    description: nullable(text),
    filter_type: oneOf(['Regular', 'Base']),
    group_key: nullable(text),
    clause: text,
    inserted_at: dateTime,
    updated_at: dateTime,
  },
  type: RULE_TYPE,
  id: (rule) => rule.id,
  attributes: (rule) => ({
    name: rule.name,
    description: rule.description,
    filter_type: rule.filter_type,
    group_key: rule.group_key,
    clause: rule.clause,
    inserted_at: rule.inserted_at,
    updated_at: rule.updated_at,
  }),
  relationships: {
    roles: { type: 'roles', many: true, ids: (rule) => rule.role_ids },
    tables: { type: TABLE_TYPE, many: true, ids: (rule) => rule.tables },
    created_by: { type: 'users', ids: (rule) => rule.created_by },
    changed_by: { type: 'users', ids: (rule) => rule.changed_by },
  },
};

/** A protected dataset, with the columns a clause may use. */
export const rlsTableResource: ResourceDefinition<Dataset> = {
  schema: { name: text, columns: listOf(objectOf({ name: text, type: text })) },
  type: TABLE_TYPE,
  id: (dataset) => dataset.name,
  attributes: (dataset) => ({
    name: dataset.name,
    columns: [...dataset.columns].map(([name, type]) => ({ name, type })),
  }),
};

export interface RoleChoiceRow {
  id: string;
  name: string;
}

/** A role a rule can name: just enough to pick it. */
export const roleChoiceResource: ResourceDefinition<RoleChoiceRow> = {
  schema: { name: text },
  type: 'roles',
  id: (role) => role.id,
  attributes: (role) => ({ name: role.name }),
};

export interface EffectiveFilterRow {
  table: string;
  userId: string;
  roleIds: readonly string[];
  /** The combined predicate as an admin would write it, or null when no rule applies. */
  clause: string | null;
  ruleIds: readonly string[];
}

export const effectiveFilterResource: ResourceDefinition<EffectiveFilterRow> = {
  schema: { table: text, clause: nullable(text), filtered: boolean },
  type: 'rls-effective-filters',
  id: (row) => `${row.table}:${row.userId}`,
  attributes: (row) => ({ table: row.table, clause: row.clause, filtered: row.clause !== null }),
  relationships: {
    user: { type: 'users', ids: (row) => row.userId },
    roles: { type: 'roles', many: true, ids: (row) => row.roleIds },
    rules: { type: RULE_TYPE, many: true, ids: (row) => row.ruleIds },
  },
};
