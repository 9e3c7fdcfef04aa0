import { boolean, dateTime, listOf, text } from '../../common/jsonapi/attribute-schema';
import { DATE_FILTER, QuerySpec } from '../../common/jsonapi/query-spec';
import { ResourceDefinition } from '../../common/jsonapi/resource-definition';
import { USER_FIELDS } from '../../auth/user.resource';

export interface MuteRuleRow {
  id: string;
  name: string;
  reason: string;
  enabled: boolean;
  finding_uids: string[];
  created_by: string | null;
  inserted_at: Date;
  updated_at: Date;
}

export const MUTE_RULE_COLUMNS_SQL = 'm.id, m.name, m.reason, m.enabled, m.finding_uids, m.created_by, m.inserted_at, m.updated_at';

export const muteRuleResource: ResourceDefinition<MuteRuleRow> = {
  schema: {
    name: text,
    reason: text,
    enabled: boolean,
    finding_uids: listOf(text),
    inserted_at: dateTime,
    updated_at: dateTime,
  },
  type: 'mute-rules',
  id: (m) => m.id,
  attributes: (m) => ({
    name: m.name,
    reason: m.reason,
    enabled: m.enabled,
    finding_uids: m.finding_uids,
    inserted_at: m.inserted_at,
    updated_at: m.updated_at,
  }),
  relationships: { created_by: { type: 'users', ids: (m) => m.created_by } },
};

const FIELDS = {
  'mute-rules': ['name', 'reason', 'enabled', 'finding_uids', 'inserted_at', 'updated_at', 'created_by'],
  users: USER_FIELDS,
};
/** Prowler includes the rule's author; another user than the caller shows only to a holder of manage_users. */
const INCLUDES = ['created_by'];

export const MUTE_RULE_LIST: QuerySpec = {
  filters: {
    id: { type: 'uuid', operators: ['eq', 'in'] },
    name: { type: 'string', operators: ['eq', 'icontains'] },
    reason: { type: 'string', operators: ['icontains'] },
    enabled: { type: 'boolean', operators: ['eq'] },
    created_by: { type: 'uuid', operators: ['eq'] },
    inserted_at: DATE_FILTER,
    updated_at: DATE_FILTER,
    /** Name and reason contain the term. */
    search: { type: 'string', operators: ['eq'] },
  },
  sorts: ['name', 'enabled', 'inserted_at', 'updated_at'],
  defaultSort: '-inserted_at',
  includes: INCLUDES,
  fields: FIELDS,
};

export const MUTE_RULE_DETAIL: QuerySpec = { includes: INCLUDES, fields: FIELDS };
