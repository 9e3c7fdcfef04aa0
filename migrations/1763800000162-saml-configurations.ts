import { MigrationInterface, QueryRunner } from 'typeorm';
import { tenantIsolation } from '../src/database/rls-policy-sql';

/**
 * SAML single sign-on: one configuration per tenant, holding the IdP's
 * metadata as sent and what was read from it when it was written. The email
 * domain is unique across tenants, since sign-in finds the tenant by it.
 */
export class SamlConfigurations1763800000162 implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    const statements = [
      `CREATE TABLE saml_configurations (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
        email_domain varchar(254) NOT NULL CHECK (email_domain = lower(email_domain)),
        metadata_xml text NOT NULL,
        idp_entity_id text NOT NULL,
        idp_sso_url text NOT NULL,
        idp_certificates text[] NOT NULL,
        inserted_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT saml_configurations_email_domain_unique UNIQUE (email_domain),
        CONSTRAINT saml_configurations_tenant_unique UNIQUE (tenant_id)
      )`,
      ...tenantIsolation('saml_configurations'),
    ];
    for (const sql of statements) await q.query(sql);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS saml_configurations CASCADE`);
  }
}
