import { MigrationInterface, QueryRunner } from 'typeorm';
import { CURRENT_TENANT, writtenRowCheck } from '../src/database/rls-policy-sql';

/**
 * The tenant policies' checks on written rows (the _insert and _update
 * policies of tenantIsolation) compare with the tenant read once per
 * statement instead of once per row (writtenRowCheck). Tables isolated before
 * get the new check here, month partitions included; policies of another
 * shape are left as they are.
 */
export class WrittenRowChecks1763800000260 implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    for (const policy of await tenantPolicies(q)) {
      await q.query(`ALTER POLICY ${policy.name} ON ${policy.table} WITH CHECK (${writtenRowCheck(policy.column)})`);
    }
  }

  async down(q: QueryRunner): Promise<void> {
    for (const policy of await tenantPolicies(q)) {
      await q.query(`ALTER POLICY ${policy.name} ON ${policy.table} WITH CHECK (${policy.column} = ${CURRENT_TENANT})`);
    }
  }
}

/** The _insert and _update policies tenantIsolation made, with the column each compares. */
async function tenantPolicies(q: QueryRunner): Promise<Array<{ name: string; table: string; column: string }>> {
  const found: Array<{ policyname: string; tablename: string; with_check: string }> = await q.query(
    `SELECT policyname, tablename, with_check FROM pg_policies
      WHERE schemaname = current_schema() AND policyname IN (tablename || '_insert', tablename || '_update')`,
  );
  const policies = [];
  for (const row of found) {
    // As PostgreSQL shows either form of the check: "(tenant_id = (NULLIF(current_setting(...)..." or "(tenant_id = ( SELECT (NULLIF(...".
    const column = /^\((\w+) = \(( SELECT )?\(?NULLIF\(current_setting\('api\.tenant_id'::text, true\), ''::text\)\)::uuid( AS "nullif")?\)?\)$/.exec(row.with_check)?.[1];
    if (column) policies.push({ name: quoted(row.policyname), table: quoted(row.tablename), column: quoted(column) });
  }
  return policies;
}

function quoted(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
