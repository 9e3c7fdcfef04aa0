import { DATE_FILTER, FilterSpec, QuerySpec } from '../common/jsonapi/query-spec';
import { PROVIDER_FIELDS } from '../providers/provider.resource';
import { PROVIDER_TYPES } from '../providers/provider-uid-rules';
import { SCAN_FIELDS, SCAN_STATES, SCAN_TRIGGERS } from './scan.resource';

const text: FilterSpec = { type: 'string', operators: ['eq', 'icontains', 'in'] };
/** `processor` (Prowler's mutelist processor, none here) and `url` (the self link) may be named in a sparse fieldset. */
const FIELDS = { scans: [...SCAN_FIELDS, 'processor', 'url'], providers: [...PROVIDER_FIELDS, 'url'] };

export const SCAN_LIST: QuerySpec = {
  filters: {
    id: { type: 'uuid', operators: ['eq', 'in'] },
    name: { type: 'string', operators: ['eq', 'icontains'] },
    provider: { type: 'uuid', operators: ['eq', 'in'] },
    provider_type: { type: 'enum', operators: ['eq', 'in'], values: PROVIDER_TYPES },
    provider_uid: text,
    provider_alias: text,
    provider_groups: { type: 'uuid', operators: ['eq', 'in'] },
    state: { type: 'enum', operators: ['eq', 'in'], values: SCAN_STATES },
    trigger: { type: 'enum', operators: ['eq', 'in'], values: SCAN_TRIGGERS },
    inserted_at: DATE_FILTER,
    started_at: DATE_FILTER,
    completed_at: DATE_FILTER,
    next_scan_at: DATE_FILTER,
    search: { type: 'string', operators: ['eq'] },
  },
  sorts: ['name', 'trigger', 'state', 'progress', 'attempted_at', 'started_at', 'completed_at', 'scheduled_at', 'inserted_at', 'updated_at'],
  defaultSort: '-inserted_at',
  includes: ['provider'],
  fields: FIELDS,
};

export const SCAN_DETAIL: QuerySpec = { includes: ['provider'], fields: FIELDS };
