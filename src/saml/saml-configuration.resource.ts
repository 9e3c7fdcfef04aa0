import { dateTime, text } from '../common/jsonapi/attribute-schema';
import { QuerySpec } from '../common/jsonapi/query-spec';
import { ResourceDefinition } from '../common/jsonapi/resource-definition';

export interface SamlConfigurationRow {
  id: string;
  email_domain: string;
  metadata_xml: string;
  inserted_at: Date;
  updated_at: Date;
}

export const SAML_CONFIGURATION_COLUMNS_SQL = 'c.id, c.email_domain, c.metadata_xml, c.inserted_at, c.updated_at';

/** The contract's SAMLConfiguration (its `created_at` is when the row was inserted). */
export const samlConfigurationResource: ResourceDefinition<SamlConfigurationRow> = {
  schema: { email_domain: text, metadata_xml: text, created_at: dateTime, updated_at: dateTime },
  type: 'saml-configurations',
  id: (c) => c.id,
  attributes: (c) => ({ email_domain: c.email_domain, metadata_xml: c.metadata_xml, created_at: c.inserted_at, updated_at: c.updated_at }),
};

const FIELDS = { 'saml-configurations': ['email_domain', 'metadata_xml', 'created_at', 'updated_at'] };

export const SAML_CONFIGURATION_LIST: QuerySpec = {
  filters: { search: { type: 'string', operators: ['eq'] } },
  sorts: ['email_domain', 'created_at', 'updated_at', 'id', 'metadata_xml'],
  defaultSort: '-created_at',
  fields: FIELDS,
};

export const SAML_CONFIGURATION_DETAIL: QuerySpec = { fields: FIELDS };
