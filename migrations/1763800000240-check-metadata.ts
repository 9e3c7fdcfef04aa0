import { MigrationInterface, QueryRunner } from 'typeorm';
import { tenantIsolation } from '../src/database/rls-policy-sql';

/**
 * What a tenant's scans said about each check beyond its id: the check's
 * categories (OCSF `unmapped.categories`) and its resource group. They are
 * facts of the check, not of each finding, so they live once per check
 * rather than in every finding row: a filter or an overview by category
 * joins a few hundred rows, and the findings partitions stay as narrow as
 * they were. A scan's findings per category and resource group, and its
 * distinct resources per resource group, are summed up with its other
 * summaries.
 */
export class CheckMetadata1763800000240 implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    const statements = [
      `CREATE TABLE check_metadata (
        tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
        check_id varchar(100) NOT NULL,
        categories text[] NOT NULL DEFAULT '{}',
        resource_group varchar(100),
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (tenant_id, check_id)
      )`,
      `CREATE INDEX check_metadata_categories ON check_metadata USING gin (categories)`,
      ...tenantIsolation('check_metadata'),
      // A scan's findings per category and per resource group of their checks, by severity: what the two overviews sum.
      `CREATE TABLE scan_check_fact_summaries (
        tenant_id uuid NOT NULL,
        scan_id uuid NOT NULL,
        provider_id uuid NOT NULL,
        kind varchar(20) NOT NULL CHECK (kind IN ('category', 'resource_group')),
        name varchar(100) NOT NULL,
        severity varchar(20) NOT NULL,
        total integer NOT NULL,
        failed integer NOT NULL,
        new_failed integer NOT NULL,
        PRIMARY KEY (tenant_id, scan_id, kind, name, severity)
      )`,
      `CREATE INDEX scan_check_fact_summaries_provider ON scan_check_fact_summaries (provider_id)`,
      ...tenantIsolation('scan_check_fact_summaries'),
      // Distinct resources per resource group of a scan: not a sum over checks (one resource is seen by many), so kept per scan.
      `CREATE TABLE scan_resource_group_summaries (
        tenant_id uuid NOT NULL,
        scan_id uuid NOT NULL,
        provider_id uuid NOT NULL,
        resource_group varchar(100) NOT NULL,
        resources integer NOT NULL,
        PRIMARY KEY (tenant_id, scan_id, resource_group)
      )`,
      `CREATE INDEX scan_resource_group_summaries_provider ON scan_resource_group_summaries (provider_id)`,
      ...tenantIsolation('scan_resource_group_summaries'),
    ];
    for (const sql of statements) await q.query(sql);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS scan_resource_group_summaries`);
    await q.query(`DROP TABLE IF EXISTS scan_check_fact_summaries`);
    await q.query(`DROP TABLE IF EXISTS check_metadata`);
  }
}
