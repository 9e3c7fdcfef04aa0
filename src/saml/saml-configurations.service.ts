import { Injectable } from '@nestjs/common';
import { ApiError } from '../common/errors/api-error';
import { ParsedQuery } from '../common/jsonapi/query-spec';
import { affected, rows } from '../database/sql';
import { containsPattern, filterConditions, ListColumns, orderBy, pagedList, SqlParams } from '../rbac/list-query-sql';
import { tenantManager } from '../database/tenant-context';
import { TenantDatabase } from '../database/tenant-database';
import { newId } from '../database/uuid';
import { parseIdpMetadata } from './idp-metadata';
import { SamlConfigurationCreateAttributes, SamlConfigurationUpdateAttributes } from './saml-configuration.dto';
import { SAML_CONFIGURATION_COLUMNS_SQL, SAML_CONFIGURATION_LIST, SamlConfigurationRow } from './saml-configuration.resource';

/** Prowler's search looks in the email domain; the contract's sorts include the id and the metadata. */
const LIST_COLUMNS: ListColumns = {
  filters: { search: (filter, params) => `c.email_domain ILIKE ${params.add(containsPattern(String(filter.value)))}` },
  sorts: { email_domain: 'c.email_domain', created_at: 'c.inserted_at', updated_at: 'c.updated_at', id: 'c.id', metadata_xml: 'c.metadata_xml' },
  tieBreaker: 'c.id',
};

/** One SAML configuration per tenant; its email domain belongs to no other tenant. */
@Injectable()
export class SamlConfigurationsService {
  constructor(private readonly database: TenantDatabase) {}

  list(query: ParsedQuery): Promise<{ rows: SamlConfigurationRow[]; count: number }> {
    const params = new SqlParams();
    const where = filterConditions(query, SAML_CONFIGURATION_LIST, LIST_COLUMNS, params);
    return pagedList<SamlConfigurationRow>({
      from: 'saml_configurations c', alias: 'c', columns: SAML_CONFIGURATION_COLUMNS_SQL, where, order: orderBy(query.sort, LIST_COLUMNS), page: query.page, params,
    });
  }

  async get(id: string): Promise<SamlConfigurationRow> {
    const [found] = await rows<SamlConfigurationRow>(tenantManager(), `SELECT ${SAML_CONFIGURATION_COLUMNS_SQL} FROM saml_configurations c WHERE c.id = $1`, [id]);
    if (!found) throw ApiError.notFound('No SAML configuration with this id.');
    return found;
  }

  async create(attributes: SamlConfigurationCreateAttributes): Promise<SamlConfigurationRow> {
    const metadata = parseIdpMetadata(attributes.metadata_xml);
    const domain = attributes.email_domain.toLowerCase();
    const [existing] = await rows(tenantManager(), `SELECT 1 FROM saml_configurations`);
    if (existing) throw ApiError.conflict('unique', 'This tenant already has a SAML configuration; change it with PATCH.');
    await this.refuseTakenDomain(domain);
    const id = newId();
    await rows(
      tenantManager(),
      `INSERT INTO saml_configurations (id, tenant_id, email_domain, metadata_xml, idp_entity_id, idp_sso_url, idp_certificates)
       VALUES ($1, NULLIF(current_setting('api.tenant_id', true), '')::uuid, $2, $3, $4, $5, $6)`,
      [id, domain, attributes.metadata_xml, metadata.entityId, metadata.ssoUrl, metadata.certificates],
    );
    return this.get(id);
  }

  async update(id: string, attributes: SamlConfigurationUpdateAttributes): Promise<SamlConfigurationRow> {
    await this.get(id);
    const metadata = attributes.metadata_xml === undefined ? null : parseIdpMetadata(attributes.metadata_xml);
    const domain = attributes.email_domain?.toLowerCase() ?? null;
    if (domain) await this.refuseTakenDomain(domain, id);
    await affected(
      tenantManager(),
      `UPDATE saml_configurations SET email_domain = COALESCE($2, email_domain), metadata_xml = COALESCE($3, metadata_xml),
              idp_entity_id = COALESCE($4, idp_entity_id), idp_sso_url = COALESCE($5, idp_sso_url),
              idp_certificates = COALESCE($6, idp_certificates), updated_at = now()
        WHERE id = $1`,
      [id, domain, attributes.metadata_xml ?? null, metadata?.entityId ?? null, metadata?.ssoUrl ?? null, metadata?.certificates ?? null],
    );
    return this.get(id);
  }

  async remove(id: string): Promise<void> {
    if ((await affected(tenantManager(), `DELETE FROM saml_configurations WHERE id = $1`, [id])) === 0) {
      throw ApiError.notFound('No SAML configuration with this id.');
    }
  }

  /** Across tenants by design: a domain signs in to one tenant only. The unique index settles a race. */
  private async refuseTakenDomain(domain: string, exceptId?: string): Promise<void> {
    const [taken] = await this.database.adminReadQuery(`SELECT 1 FROM saml_configurations WHERE email_domain = $1 AND id IS DISTINCT FROM $2`, [domain, exceptId ?? null]);
    if (taken) throw ApiError.conflict('unique', 'This email domain is already configured for SAML sign-in.', { pointer: '/data/attributes/email_domain' });
  }
}
