import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { QueryRunner } from 'typeorm';
import { WrittenRowChecks1763800000260 } from '../../migrations/1763800000260-written-row-checks';
import { tenantIsolation } from '../../src/database/rls-policy-sql';
import { LocalAppModule } from '../../src/local-app.module';
import { adminClient, appClient } from '../support/database';
import { inSchema, policyProblems, PrintedTenant, printedCurrentTenant, schemaPolicies, scratchSchema } from '../support/rls-policy-check';
import { newSpoolDir } from '../support/scans-fixture';
import { fastQueueEnv } from '../support/tasks-fixture';
import { SlackServer, slackTestEnv, startSlackServer } from '../support/integration-servers';
import { PROWLER_COMPLIANCE_DIR } from '../support/prowler-compliance';
import { writeCheckDefinitions } from '../support/check-definitions';
import { buildTenantWorld, TenantWorld, worldCheckDefinitions } from '../support/tenant-world';
import { startTestApp, TestApp } from '../support/test-app';

describe('row-level security in the catalog and as the app role', () => {
  let admin: Client;
  let app: TestApp;
  let slack: SlackServer;
  let world: TenantWorld;
  let currentTenant: PrintedTenant;
  const spoolDir = newSpoolDir('catalog');
  const checks = writeCheckDefinitions(worldCheckDefinitions());
  const reportsDir = mkdtempSync(join(tmpdir(), 'cspm-catalog-reports-'));

  before(async () => {
    admin = await adminClient();
    currentTenant = await printedCurrentTenant(admin);
    // Rows of this test's own in every tenant table, so "0 rows" below means the policy hid them.
    slack = await startSlackServer();
    app = await startTestApp({ ...fastQueueEnv('catalog'), ...slackTestEnv(slack), WORKERS_IN_PROCESS: 'true', SCAN_SPOOL_DIR: spoolDir, REPORTS_DIR: reportsDir, PROWLER_COMPLIANCE_DIR, PROWLER_CHECKS_DIR: checks.dir }, LocalAppModule);
    try {
      world = await buildTenantWorld(app, 'catalog');
    } finally {
      // Closed on failure too: its in-process workers would keep the test file from ending.
      await app.close();
    }
    // The relay removes outbox rows as it sends them; with the app closed (and a namespace no relay serves) this one stays.
    await admin.query(
      `INSERT INTO outbox (id, tenant_id, queue_namespace, queue, operation, job_id) VALUES (gen_random_uuid(), $1, 'rls-catalog-test', 'scans', 'add-job', 'rls-catalog-test')`,
      [world.tenantId],
    );
  });
  after(async () => {
    await slack.close();
    await admin.query(`DELETE FROM outbox WHERE queue_namespace = 'rls-catalog-test'`);
    await admin.end();
    rmSync(spoolDir, { recursive: true, force: true });
    rmSync(reportsDir, { recursive: true, force: true });
    checks.remove();
  });

  /** Every table with a tenant_id column, partitions included. */
  async function tenantTables(): Promise<string[]> {
    const { rows } = await admin.query<{ table_name: string }>(
      `SELECT c.table_name FROM information_schema.columns c
         JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
        WHERE c.table_schema = 'public' AND c.column_name = 'tenant_id' AND t.table_type = 'BASE TABLE'
        ORDER BY 1`,
    );
    return rows.map((r) => r.table_name);
  }

  it('holds this test’s own rows in every tenant table (partitions through their parent)', async () => {
    const { rows } = await admin.query<{ relname: string }>(
      `SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition
          AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped)`,
    );
    const empty: string[] = [];
    for (const { relname } of rows) {
      const counted = await admin.query(`SELECT count(*)::int AS n FROM ${relname} WHERE tenant_id = $1`, [world.tenantId]);
      if (counted.rows[0].n === 0) empty.push(relname);
    }
    assert.deepEqual(empty, [], 'extend buildTenantWorld (test/support/tenant-world.ts) so it leaves a row in each of these');
  });

  it('every policy compares the tenant exactly: tenant_id (id for tenants, a membership for users) with the tenant setting', async () => {
    const policies = await schemaPolicies(admin, 'public');
    assert.ok(policies.length > 100, `${policies.length} policies`);
    assert.deepEqual(policyProblems(policies, currentTenant), []);
  });

  it('the policy check refuses a policy widened to USING (true), an extra permissive policy, and a near miss', async () => {
    const schema = await scratchSchema(admin);
    try {
      const tenantTable = (name: string) => [`CREATE TABLE ${name} (tenant_id uuid NOT NULL)`, ...tenantIsolation(name)];
      await inSchema(admin, schema, [
        ...tenantTable('intact'),
        ...tenantTable('widened'),
        `ALTER POLICY widened_select ON widened USING (true)`,
        ...tenantTable('extra'),
        `CREATE POLICY extra_peek ON extra FOR SELECT USING (true)`,
        ...tenantTable('unchecked'),
        `ALTER POLICY unchecked_update ON unchecked WITH CHECK (true)`,
        ...tenantTable('near_miss'),
        `ALTER POLICY near_miss_delete ON near_miss USING (tenant_id = current_setting('api.tenant_id', true)::uuid)`,
        ...tenantTable('per_row'),
        `ALTER POLICY per_row_insert ON per_row WITH CHECK (tenant_id = NULLIF(current_setting('api.tenant_id', true), '')::uuid)`,
      ]);
      const problems = policyProblems(await schemaPolicies(admin, schema), currentTenant);
      const tablesWithProblems = [...new Set(problems.map((p) => p.split('.')[0]))].sort();
      assert.deepEqual(tablesWithProblems, ['extra', 'near_miss', 'per_row', 'unchecked', 'widened'], problems.join('\n'));
      assert.ok(problems.some((p) => p.startsWith('widened.widened_select (SELECT): USING is true')), problems.join('\n'));
    } finally {
      await admin.query(`DROP SCHEMA ${schema} CASCADE`);
    }
  });

  it('the written-row checks migration reads the tenant once per statement in tables isolated before it, and leaves other policies alone', async () => {
    const schema = await scratchSchema(admin);
    const perRow = `NULLIF(current_setting('api.tenant_id', true), '')::uuid`;
    const checks = async () =>
      Object.fromEntries(
        (await admin.query<{ policyname: string; with_check: string }>(`SELECT policyname, with_check FROM pg_policies WHERE schemaname = $1 AND with_check IS NOT NULL`, [schema])).rows.map(
          (row) => [row.policyname, row.with_check.includes('SELECT')],
        ),
      );
    const migrate = async (step: 'up' | 'down') => {
      const runner = { query: async (sql: string, params?: unknown[]) => (await admin.query(sql, params)).rows } as unknown as QueryRunner;
      await admin.query('BEGIN');
      await admin.query(`SET LOCAL search_path TO ${schema}`);
      await new WrittenRowChecks1763800000260()[step](runner);
      await admin.query('COMMIT');
    };
    try {
      await inSchema(admin, schema, [
        // As tenantIsolation wrote them before: the tenant read for every row.
        `CREATE TABLE older (tenant_id uuid NOT NULL)`,
        `CREATE POLICY older_insert ON older FOR INSERT WITH CHECK (tenant_id = ${perRow})`,
        `CREATE POLICY older_update ON older FOR UPDATE USING (tenant_id = ${perRow}) WITH CHECK (tenant_id = ${perRow})`,
        `CREATE TABLE tenants_like (id uuid NOT NULL)`,
        `CREATE POLICY tenants_like_insert ON tenants_like FOR INSERT WITH CHECK (id = ${perRow})`,
        `CREATE POLICY older_audit ON older FOR INSERT WITH CHECK (tenant_id = ${perRow} AND true)`,
      ]);
      assert.deepEqual(await checks(), { older_insert: false, older_update: false, tenants_like_insert: false, older_audit: false });
      await migrate('up');
      assert.deepEqual(await checks(), { older_insert: true, older_update: true, tenants_like_insert: true, older_audit: false });
      const update = await admin.query(`SELECT qual FROM pg_policies WHERE schemaname = $1 AND policyname = 'older_update'`, [schema]);
      assert.doesNotMatch(update.rows[0].qual, /SELECT/, 'reads keep the plain comparison');
      await migrate('down');
      assert.deepEqual(await checks(), { older_insert: false, older_update: false, tenants_like_insert: false, older_audit: false });
    } finally {
      await admin.query('ROLLBACK').catch(() => undefined);
      await admin.query(`DROP SCHEMA ${schema} CASCADE`);
    }
  });

  it('every table with tenant_id has RLS enabled and forced, and a policy for each command', async () => {
    const tables = await tenantTables();
    assert.ok(tables.length >= 5, `expected tenant tables, found ${tables.join(', ')}`);
    const problems: string[] = [];
    for (const table of tables) {
      const { rows } = await admin.query<{ relrowsecurity: boolean; relforcerowsecurity: boolean }>(
        `SELECT relrowsecurity, relforcerowsecurity FROM pg_class WHERE oid = $1::regclass`,
        [`public.${table}`],
      );
      if (!rows[0]?.relrowsecurity) problems.push(`${table}: RLS not enabled`);
      if (!rows[0]?.relforcerowsecurity) problems.push(`${table}: RLS not forced`);
      const policies = await admin.query<{ cmd: string }>(`SELECT cmd FROM pg_policies WHERE schemaname = 'public' AND tablename = $1`, [table]);
      const commands = new Set(policies.rows.map((p) => p.cmd));
      for (const command of ['SELECT', 'INSERT', 'UPDATE', 'DELETE']) {
        if (!commands.has(command) && !commands.has('ALL')) problems.push(`${table}: no ${command} policy`);
      }
    }
    assert.deepEqual(problems, []);
  });

  it('the app role is not a superuser, does not bypass RLS and owns no table', async () => {
    const user = new URL(process.env.DATABASE_URL!).username;
    const { rows } = await admin.query(`SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = $1`, [user]);
    assert.deepEqual(rows[0], { rolsuper: false, rolbypassrls: false });
    const owned = await admin.query(`SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tableowner = $1`, [user]);
    assert.equal(owned.rowCount, 0);
  });

  for (const [label, setting] of [['no tenant setting', null], ['an empty tenant setting', '']] as const) {
    it(`with ${label}, tenant tables show 0 rows and inserts are refused by the policy, not by an error in it`, async () => {
      const client = await appClient();
      try {
        await client.query('BEGIN');
        if (setting !== null) await client.query(`SELECT set_config('api.tenant_id', $1, true)`, [setting]);
        const tables = [...(await tenantTables()), 'tenants', 'users'];
        for (const table of tables) {
          const { rows } = await client.query(`SELECT count(*)::int AS n FROM ${table}`);
          assert.equal(rows[0].n, 0, `${table} leaked rows`);
        }
        const own = await client.query(`SELECT count(*)::int AS n FROM providers WHERE id = $1`, [world.ids.provider]);
        assert.equal(own.rows[0].n, 0, 'not even by id');
        const tenant = (await admin.query(`SELECT id FROM tenants LIMIT 1`)).rows[0].id;
        await client.query('SAVEPOINT s');
        await assert.rejects(
          client.query(`INSERT INTO roles (id, tenant_id, name) VALUES (gen_random_uuid(), $1, 'sneaky')`, [tenant]),
          (error: { code?: string }) => error.code === '42501',
        );
        await client.query('ROLLBACK TO SAVEPOINT s');
        await assert.rejects(
          client.query(`INSERT INTO tenants (id, name) VALUES (gen_random_uuid(), 'sneaky')`),
          (error: { code?: string }) => error.code === '42501',
        );
      } finally {
        await client.query('ROLLBACK').catch(() => undefined);
        await client.end();
      }
    });
  }

  it('with one tenant set, only that tenant is visible and writes to another tenant are refused', async () => {
    const tenants = (await admin.query<{ id: string }>(`SELECT id FROM tenants ORDER BY id LIMIT 2`)).rows;
    const client = await appClient();
    try {
      await client.query('BEGIN');
      await client.query(`SELECT set_config('api.tenant_id', $1, true)`, [tenants[0].id]);
      const visible = await client.query(`SELECT DISTINCT tenant_id FROM memberships`);
      assert.deepEqual(visible.rows.map((r) => r.tenant_id), [tenants[0].id]);
      const updated = await client.query(`UPDATE roles SET name = name || '-x' WHERE tenant_id = $1`, [tenants[1].id]);
      assert.equal(updated.rowCount, 0);
      await assert.rejects(
        client.query(`INSERT INTO roles (id, tenant_id, name) VALUES (gen_random_uuid(), $1, 'cross')`, [tenants[1].id]),
        (error: { code?: string }) => error.code === '42501',
      );
    } finally {
      await client.query('ROLLBACK').catch(() => undefined);
      await client.end();
    }
  });
});
