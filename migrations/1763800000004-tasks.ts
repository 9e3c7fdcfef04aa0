import { MigrationInterface, QueryRunner } from 'typeorm';
import { tenantIsolation } from '../src/database/rls-policy-sql';

const TASK_STATES = `('available', 'scheduled', 'executing', 'completed', 'failed', 'cancelled')`;

/**
 * Background work: tasks (what a client sees of a job), the transactional
 * outbox that hands jobs to BullMQ after commit, scans (minimal until the
 * scans feature extends them) and daily scan schedules.
 */
export class Tasks1763800000004 implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    const statements = [
      // provider_id has no foreign key: a task outlives the provider it was about (deletion tasks do by design).
      // queue_namespace is the REDIS_PREFIX the job lives under: relays and sweeps touch only their own.
      `CREATE TABLE tasks (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
        provider_id uuid,
        name varchar(100) NOT NULL,
        queue varchar(32) NOT NULL,
        queue_namespace varchar(200) NOT NULL,
        state varchar(10) NOT NULL DEFAULT 'available' CHECK (state IN ${TASK_STATES}),
        progress smallint NOT NULL DEFAULT 0 CHECK (progress BETWEEN 0 AND 100),
        result jsonb,
        task_args jsonb NOT NULL DEFAULT '{}',
        metadata jsonb NOT NULL DEFAULT '{}',
        attempts integer NOT NULL DEFAULT 0,
        cancel_requested_at timestamptz,
        inserted_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        started_at timestamptz,
        completed_at timestamptz
      )`,
      `CREATE INDEX tasks_tenant_inserted ON tasks (tenant_id, inserted_at DESC, id)`,
      `CREATE INDEX tasks_provider ON tasks (provider_id) WHERE provider_id IS NOT NULL`,
      `CREATE INDEX tasks_unfinished ON tasks (queue_namespace, state, updated_at) WHERE state IN ('available', 'scheduled', 'executing')`,
      ...tenantIsolation('tasks'),

      // Written by the request (or job) transaction, read and deleted by the relay as the owner role.
      `CREATE TABLE outbox (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
        queue_namespace varchar(200) NOT NULL,
        queue varchar(32) NOT NULL,
        operation varchar(20) NOT NULL CHECK (operation IN ('add-job', 'upsert-scheduler', 'remove-scheduler')),
        job_name varchar(100),
        job_id varchar(200) NOT NULL,
        payload jsonb NOT NULL DEFAULT '{}',
        options jsonb NOT NULL DEFAULT '{}',
        attempts integer NOT NULL DEFAULT 0,
        last_error text,
        available_at timestamptz NOT NULL DEFAULT now(),
        inserted_at timestamptz NOT NULL DEFAULT now()
      )`,
      `CREATE INDEX outbox_due ON outbox (queue_namespace, available_at, id)`,
      `CREATE INDEX outbox_job ON outbox (job_id)`,
      ...tenantIsolation('outbox'),

      `CREATE TABLE scans (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
        provider_id uuid NOT NULL REFERENCES providers (id) ON DELETE CASCADE,
        name varchar(100),
        trigger varchar(10) NOT NULL CHECK (trigger IN ('manual', 'scheduled', 'imported')),
        state varchar(10) NOT NULL DEFAULT 'available' CHECK (state IN ${TASK_STATES}),
        progress smallint NOT NULL DEFAULT 0 CHECK (progress BETWEEN 0 AND 100),
        task_id uuid REFERENCES tasks (id) ON DELETE SET NULL,
        started_at timestamptz,
        completed_at timestamptz,
        scheduled_at timestamptz,
        inserted_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        unique_resource_count integer NOT NULL DEFAULT 0
      )`,
      `CREATE INDEX scans_provider ON scans (provider_id, inserted_at DESC)`,
      `CREATE INDEX scans_tenant_inserted ON scans (tenant_id, inserted_at DESC)`,
      `CREATE INDEX scans_task ON scans (task_id) WHERE task_id IS NOT NULL`,
      ...tenantIsolation('scans'),

      // One daily schedule per provider; the BullMQ job scheduler is its runtime twin, kept in step through the outbox.
      `CREATE TABLE scan_schedules (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
        provider_id uuid NOT NULL REFERENCES providers (id) ON DELETE CASCADE,
        every_hours smallint NOT NULL DEFAULT 24 CHECK (every_hours > 0),
        starts_at timestamptz NOT NULL,
        inserted_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (provider_id)
      )`,
      `CREATE INDEX scan_schedules_tenant ON scan_schedules (tenant_id, inserted_at DESC)`,
      ...tenantIsolation('scan_schedules'),
    ];
    for (const sql of statements) await q.query(sql);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const table of ['scan_schedules', 'scans', 'outbox', 'tasks']) {
      await q.query(`DROP TABLE IF EXISTS ${table} CASCADE`);
    }
  }
}
