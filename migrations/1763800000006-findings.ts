import { MigrationInterface, QueryRunner } from 'typeorm';
import { tenantIsolation } from '../src/database/rls-policy-sql';
import { addMonths, createMonthPartitions } from '../src/findings/storage/finding-partitions';

const STATUSES = `('FAIL', 'PASS', 'MANUAL')`;
const SEVERITIES = `('critical', 'high', 'medium', 'low', 'informational')`;
const DELTAS = `('new', 'changed')`;

/**
 * Findings and resources: storage, ingestion state and the summaries overviews read.
 *
 * The high-volume tables (findings, resource_finding_links, resources,
 * finding_latest) carry no foreign keys: a key check per row would cost
 * ingestion more than the rest of the write, and a cascade from a provider or
 * scan would delete millions of rows in one statement. The deletion job
 * removes their rows in batches instead (see findings-deletion.ts).
 */
export class Findings1763800000006 implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    const statements = [
      // A finding's id: the scan's start (ms) as UUIDv7 time, random bits from md5(scan id, finding uid).
      // Deterministic, so a retried batch conflicts on the same ids, and every id of one
      // scan shares one millisecond: one partition, one narrow id range.
      `CREATE FUNCTION uuid7_from_md5(started_ms bigint, hash text) RETURNS uuid
        LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
          SELECT (lpad(to_hex(started_ms), 12, '0') || '7' || substr(hash, 1, 3)
                  || substr('89ab', (('x' || substr(hash, 4, 1))::bit(4)::int & 3) + 1, 1)
                  || substr(hash, 5, 15))::uuid
        $$`,
      `CREATE FUNCTION finding_uuid(started_ms bigint, scan_id uuid, uid text) RETURNS uuid
        LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
          SELECT uuid7_from_md5(started_ms, md5(scan_id::text || ':' || uid))
        $$`,

      `CREATE TABLE resources (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL,
        provider_id uuid NOT NULL,
        uid text NOT NULL,
        name text NOT NULL DEFAULT '',
        region varchar(100) NOT NULL DEFAULT '',
        service varchar(100) NOT NULL DEFAULT '',
        type varchar(150) NOT NULL DEFAULT '',
        failed_findings_count integer NOT NULL DEFAULT 0,
        inserted_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT resources_provider_uid UNIQUE (tenant_id, provider_id, uid)
      )`,
      `CREATE INDEX resources_tenant_id ON resources (tenant_id, id)`,
      ...tenantIsolation('resources'),

      `CREATE TABLE resource_tags (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL,
        key text NOT NULL,
        value text NOT NULL,
        CONSTRAINT resource_tags_key_value UNIQUE (tenant_id, key, value)
      )`,
      ...tenantIsolation('resource_tags'),

      `CREATE TABLE resource_tag_links (
        tenant_id uuid NOT NULL,
        resource_id uuid NOT NULL,
        tag_id uuid NOT NULL,
        PRIMARY KEY (tenant_id, resource_id, tag_id)
      )`,
      `CREATE INDEX resource_tag_links_tag ON resource_tag_links (tenant_id, tag_id)`,
      ...tenantIsolation('resource_tag_links'),

      // inserted_at is the scan's start, the instant the id carries: sorting or
      // filtering by it is sorting or filtering by id, which prunes partitions.
      `CREATE TABLE findings (
        id uuid NOT NULL,
        tenant_id uuid NOT NULL,
        scan_id uuid NOT NULL,
        provider_id uuid NOT NULL,
        uid varchar(300) NOT NULL,
        check_id varchar(100) NOT NULL,
        check_title text NOT NULL DEFAULT '',
        status varchar(6) NOT NULL CHECK (status IN ${STATUSES}),
        status_extended text,
        severity varchar(13) NOT NULL CHECK (severity IN ${SEVERITIES}),
        severity_rank smallint GENERATED ALWAYS AS (
          CASE severity WHEN 'critical' THEN 0 WHEN 'high' THEN 1 WHEN 'medium' THEN 2 WHEN 'low' THEN 3 ELSE 4 END
        ) STORED,
        delta varchar(7) CHECK (delta IN ${DELTAS}),
        muted boolean NOT NULL DEFAULT false,
        muted_reason text,
        first_seen_at timestamptz NOT NULL,
        service varchar(100) NOT NULL DEFAULT '',
        region varchar(100) NOT NULL DEFAULT '',
        resource_type varchar(150) NOT NULL DEFAULT '',
        resource_uid text NOT NULL DEFAULT '',
        compliance jsonb NOT NULL DEFAULT '{}',
        inserted_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (tenant_id, id)
      ) PARTITION BY RANGE (id)`,
      ...tenantIsolation('findings'),

      `CREATE TABLE resource_finding_links (
        tenant_id uuid NOT NULL,
        finding_id uuid NOT NULL,
        resource_id uuid NOT NULL,
        PRIMARY KEY (tenant_id, finding_id, resource_id)
      ) PARTITION BY RANGE (finding_id)`,
      `CREATE INDEX resource_finding_links_resource ON resource_finding_links (tenant_id, resource_id, finding_id)`,
      ...tenantIsolation('resource_finding_links'),

      // The latest state per finding uid: delta and first_seen_at are one key
      // look-up, whatever the history kept. Updated in place by every scan,
      // hence the free space for HOT updates.
      `CREATE TABLE finding_latest (
        tenant_id uuid NOT NULL,
        provider_id uuid NOT NULL,
        uid varchar(300) NOT NULL,
        status varchar(6) NOT NULL,
        severity varchar(13) NOT NULL,
        first_seen_at timestamptz NOT NULL,
        last_finding_id uuid NOT NULL,
        last_scan_id uuid NOT NULL,
        PRIMARY KEY (tenant_id, provider_id, uid)
      ) WITH (fillfactor = 80)`,
      ...tenantIsolation('finding_latest'),

      // What ingestion knows of a scan: its start (so its findings' id range) and when it was last aggregated.
      `CREATE TABLE scan_ingestions (
        scan_id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL,
        provider_id uuid NOT NULL,
        started_at timestamptz NOT NULL,
        last_ingested_at timestamptz NOT NULL DEFAULT now(),
        aggregated_at timestamptz,
        resource_count integer NOT NULL DEFAULT 0
      )`,
      `CREATE INDEX scan_ingestions_provider ON scan_ingestions (tenant_id, provider_id, started_at DESC)`,
      ...tenantIsolation('scan_ingestions'),

      // Running totals per provider, kept by ingestion in the same statement as the
      // insert: exact page-number counts for the common filters without counting rows.
      `CREATE TABLE finding_counts (
        tenant_id uuid NOT NULL,
        provider_id uuid NOT NULL,
        status varchar(6) NOT NULL,
        severity varchar(13) NOT NULL,
        muted boolean NOT NULL,
        delta varchar(7) NOT NULL DEFAULT '',
        findings bigint NOT NULL,
        PRIMARY KEY (tenant_id, provider_id, status, severity, muted, delta)
      )`,
      ...tenantIsolation('finding_counts'),

      // One row per scan and combination of the dimensions overviews and counts filter on.
      `CREATE TABLE scan_summaries (
        tenant_id uuid NOT NULL,
        scan_id uuid NOT NULL,
        provider_id uuid NOT NULL,
        check_id varchar(100) NOT NULL,
        service varchar(100) NOT NULL,
        region varchar(100) NOT NULL,
        resource_type varchar(150) NOT NULL,
        severity varchar(13) NOT NULL,
        status varchar(6) NOT NULL,
        muted boolean NOT NULL,
        delta varchar(7) NOT NULL DEFAULT '',
        findings integer NOT NULL
      )`,
      `CREATE INDEX scan_summaries_scan ON scan_summaries (tenant_id, scan_id)`,
      ...tenantIsolation('scan_summaries'),

      // Per scan, framework and requirement: what the compliance overview reads.
      `CREATE TABLE compliance_requirement_summaries (
        tenant_id uuid NOT NULL,
        scan_id uuid NOT NULL,
        provider_id uuid NOT NULL,
        framework varchar(200) NOT NULL,
        requirement_id varchar(200) NOT NULL,
        region varchar(100) NOT NULL,
        pass integer NOT NULL,
        fail integer NOT NULL,
        manual integer NOT NULL,
        muted integer NOT NULL,
        total integer NOT NULL
      )`,
      `CREATE INDEX compliance_requirement_summaries_scan ON compliance_requirement_summaries (tenant_id, scan_id, framework)`,
      ...tenantIsolation('compliance_requirement_summaries'),

      `CREATE TABLE mute_rules (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
        name varchar(100) NOT NULL,
        reason varchar(500) NOT NULL,
        enabled boolean NOT NULL DEFAULT true,
        finding_uids text[] NOT NULL,
        created_by uuid REFERENCES users (id) ON DELETE SET NULL,
        inserted_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT mute_rules_tenant_name UNIQUE (tenant_id, name)
      )`,
      // Ingestion asks "does an enabled rule hold this uid?" per finding.
      `CREATE INDEX mute_rules_uids ON mute_rules USING gin (finding_uids) WHERE enabled`,
      ...tenantIsolation('mute_rules'),
    ];
    for (const sql of statements) await q.query(sql);
    const now = new Date();
    for (let month = 0; month <= 2; month++) await createMonthPartitions(q, addMonths(now, month));
  }

  async down(q: QueryRunner): Promise<void> {
    for (const table of [
      'mute_rules',
      'compliance_requirement_summaries',
      'scan_summaries',
      'finding_counts',
      'scan_ingestions',
      'finding_latest',
      'resource_finding_links',
      'findings',
      'resource_tag_links',
      'resource_tags',
      'resources',
    ]) {
      await q.query(`DROP TABLE IF EXISTS ${table} CASCADE`);
    }
    await q.query(`DROP FUNCTION IF EXISTS finding_uuid(bigint, uuid, text)`);
    await q.query(`DROP FUNCTION IF EXISTS uuid7_from_md5(bigint, text)`);
  }
}
