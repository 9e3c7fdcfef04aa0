import { DATE_FILTER, QuerySpec } from '../common/jsonapi/query-spec';
import { PROVIDER_FIELDS } from '../providers/provider.resource';
import { INTEGRATION_TYPES } from './integration-types';
import { INTEGRATION_FIELDS } from './integration.resource';

/** `url` is Prowler's self link, which a sparse fieldset may name. */
const INTEGRATION_SPARSE_FIELDS = { integrations: [...INTEGRATION_FIELDS, 'url'], providers: [...PROVIDER_FIELDS, 'url'] };

export const INTEGRATION_LIST: QuerySpec = {
  filters: {
    inserted_at: DATE_FILTER,
    integration_type: { type: 'enum', operators: ['eq', 'in'], values: INTEGRATION_TYPES },
    search: { type: 'string', operators: ['eq'] },
  },
  sorts: ['id', 'inserted_at', 'updated_at', 'enabled', 'connected', 'connection_last_checked_at', 'integration_type', 'configuration', 'providers', 'url'],
  // Prowler orders by type, then newest first; the newest-first part is the tie-breaker in the repository.
  defaultSort: 'integration_type',
  includes: ['providers'],
  fields: INTEGRATION_SPARSE_FIELDS,
};

export const INTEGRATION_DETAIL: QuerySpec = { includes: ['providers'], fields: INTEGRATION_SPARSE_FIELDS };

export const JIRA_ISSUE_TYPES: QuerySpec = {
  fields: { 'jira-issue-types': ['project_key', 'issue_types'] },
  extraParameters: ['project_key'],
};

/** The findings a Jira dispatch sends: at least one of these filters is required. */
export const JIRA_DISPATCH: QuerySpec = {
  filters: {
    finding_id: { type: 'uuid', operators: ['eq', 'in'] },
  },
};
