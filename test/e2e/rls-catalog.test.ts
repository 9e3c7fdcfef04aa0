import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from 'pg';
import { adminClient, appClient } from '../support/database';
import { startTestApp, TestApp } from '../support/test-app';
import { signUp } from '../support/http-client';

describe('row-level security in the catalog and as the app role', () => {
  let admin: Client;
  let app: TestApp;

  before(async () => {
    admin = await adminClient();
    app = await startTestApp();
    // Some rows in every platform table, so "0 rows" means the policy hid them.
    await signUp(app.baseUrl, 'catalog-a');
    await signUp(app.baseUrl, 'catalog-b');
  });
  after(async () => {
    await admin.end();
    await app.close();
  });

  async function tenantTables(): Promise<string[]> {
    const { rows } = await admin.query<{ table_name: string }>(
      `SELECT c.table_name FROM information_schema.columns c
         JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
        WHERE c.table_schema = 'public' AND c.column_name = 'tenant_id' AND t.table_type = 'BASE TABLE'
        ORDER BY 1`,
    );
    return rows.map((r) => r.table_name);
  }

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
