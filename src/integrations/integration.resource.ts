import { boolean, dateTime, JsonSchema, listOf, mapOf, nullable, objectOf, oneOf, text } from '../common/jsonapi/attribute-schema';
import { ResourceDefinition } from '../common/jsonapi/resource-definition';
import { INTEGRATION_TYPES, IntegrationType } from './integration-types';

/** What may be rendered: the credentials' envelope is never selected into a row. */
export interface IntegrationRow {
  id: string;
  integration_type: IntegrationType;
  enabled: boolean;
  connected: boolean | null;
  connection_last_checked_at: Date | null;
  configuration: Record<string, unknown>;
  inserted_at: Date;
  updated_at: Date;
  /** The linked providers the caller may see (live ones only). */
  provider_ids: string[] | null;
}

export const INTEGRATION_FIELDS = [
  'inserted_at',
  'updated_at',
  'enabled',
  'connected',
  'connection_last_checked_at',
  'integration_type',
  'configuration',
  'providers',
] as const;

/** Each type's configuration as validateSettings stores it (Jira's filled by the connection check). */
const CONFIGURATION: JsonSchema = {
  anyOf: [
    objectOf({ bucket_name: text, output_directory: text }),
    objectOf({ send_only_fails: boolean, archive_previous_findings: boolean }),
    objectOf({ domain: text, projects: mapOf(text), issue_types: mapOf(listOf(text)) }),
    objectOf({ channel: text }),
  ],
};

export const integrationResource: ResourceDefinition<IntegrationRow> = {
  schema: {
    inserted_at: dateTime,
    updated_at: dateTime,
    enabled: boolean,
    connected: nullable(boolean),
    connection_last_checked_at: nullable(dateTime),
    integration_type: oneOf(INTEGRATION_TYPES),
    configuration: CONFIGURATION,
  },
  type: 'integrations',
  selfPath: 'integrations',
  id: (i) => i.id,
  attributes: (i) => ({
    inserted_at: i.inserted_at,
    updated_at: i.updated_at,
    enabled: i.enabled,
    connected: i.connected,
    connection_last_checked_at: i.connection_last_checked_at,
    integration_type: i.integration_type,
    configuration: i.configuration,
  }),
  relationships: { providers: { type: 'providers', many: true, ids: (i) => i.provider_ids ?? [] } },
};

/** `GET /integrations/{id}/jira/issue_types`: Prowler renders it with the integration's id. */
export interface JiraIssueTypesRow {
  id: string;
  project_key: string;
  issue_types: string[];
}

export const jiraIssueTypesResource: ResourceDefinition<JiraIssueTypesRow> = {
  schema: { project_key: text, issue_types: listOf(text) },
  type: 'jira-issue-types',
  id: (row) => row.id,
  attributes: (row) => ({ project_key: row.project_key, issue_types: row.issue_types }),
};
