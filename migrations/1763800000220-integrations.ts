import { MigrationInterface, QueryRunner } from 'typeorm';
import { tenantIsolation } from '../src/database/rls-policy-sql';

/**
 * Integrations (Amazon S3, AWS Security Hub, Jira, Slack): their settings,
 * their encrypted credentials, the providers they serve (a link table with
 * its own tenant_id), and what each has sent for each scan, so a retried
 * job sends nothing twice.
 */
export class Integrations1763800000220 implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    const statements = [
      `CREATE TABLE integrations (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
        integration_type varchar(30) NOT NULL CHECK (integration_type IN ('amazon_s3', 'aws_security_hub', 'jira', 'slack')),
        enabled boolean NOT NULL DEFAULT true,
        connected boolean,
        connection_last_checked_at timestamptz,
        configuration jsonb NOT NULL DEFAULT '{}',
        credentials text NOT NULL,
        key_id varchar(32) NOT NULL,
        inserted_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`,
      `CREATE INDEX integrations_tenant_type ON integrations (tenant_id, integration_type)`,
      ...tenantIsolation('integrations'),

      `CREATE TABLE integration_provider_links (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
        integration_id uuid NOT NULL REFERENCES integrations (id) ON DELETE CASCADE,
        provider_id uuid NOT NULL REFERENCES providers (id) ON DELETE CASCADE,
        inserted_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT integration_provider_links_unique UNIQUE (integration_id, provider_id)
      )`,
      `CREATE INDEX integration_provider_links_provider ON integration_provider_links (tenant_id, provider_id)`,
      ...tenantIsolation('integration_provider_links'),

      // One row per (integration, run): a run is a scan, or the task of a Jira dispatch. `sent_parts` names what
      // already went out (S3 keys, Security Hub batches, the Slack message, Jira issues), so a retried job
      // sends only what is missing; `state` is 'sending', then 'sent', or 'refused' when the target refused for good.
      `CREATE TABLE integration_deliveries (
        tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
        integration_id uuid NOT NULL REFERENCES integrations (id) ON DELETE CASCADE,
        run_id uuid NOT NULL,
        state varchar(10) NOT NULL DEFAULT 'sending' CHECK (state IN ('sending', 'sent', 'refused')),
        sent_parts text[] NOT NULL DEFAULT '{}',
        error text,
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (tenant_id, integration_id, run_id)
      )`,
      ...tenantIsolation('integration_deliveries'),
    ];
    for (const sql of statements) await q.query(sql);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS integration_deliveries CASCADE`);
    await q.query(`DROP TABLE IF EXISTS integration_provider_links CASCADE`);
    await q.query(`DROP TABLE IF EXISTS integrations CASCADE`);
  }
}
