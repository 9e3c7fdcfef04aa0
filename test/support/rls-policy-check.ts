import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { tenantIsolation } from '../../src/database/rls-policy-sql';

/**
 * What every row-level security policy must compare, read back from the
 * catalog (`pg_policies.qual` and `with_check`, as PostgreSQL prints them):
 * a tenant table's `tenant_id`, the `tenants` row's `id`, and for `users` a
 * membership in the current tenant, each with the current tenant setting.
 * Any other expression, a policy that is not this exact comparison (such as
 * `USING (true)`), or an extra policy beside it (permissive policies are
 * ORed) is a problem.
 */
export interface PolicyRow {
  tablename: string;
  policyname: string;
  cmd: string;
  qual: string | null;
  with_check: string | null;
}

const normalise = (sql: string | null) => (sql === null ? null : sql.replace(/\s+/g, ' ').trim());

/**
 * The current-tenant expressions as PostgreSQL prints them: what reads
 * compare with (`read`), and what written rows are checked against
 * (`written`, the same read once per statement). Applies the project's own
 * tenantIsolation() to a table in a scratch schema and reads the policies
 * back, so the check follows the helper every migration uses.
 */
export interface PrintedTenant {
  read: string;
  written: string;
}

export async function printedCurrentTenant(admin: Client): Promise<PrintedTenant> {
  const schema = await scratchSchema(admin);
  try {
    await inSchema(admin, schema, ['CREATE TABLE reference (tenant_id uuid NOT NULL)', ...tenantIsolation('reference')]);
    const { rows } = await admin.query<{ qual: string; with_check: string }>(
      `SELECT (SELECT qual FROM pg_policies WHERE schemaname = $1 AND policyname = 'reference_select') AS qual,
              (SELECT with_check FROM pg_policies WHERE schemaname = $1 AND policyname = 'reference_insert') AS with_check`,
      [schema],
    );
    const [read, written] = [rows[0].qual, rows[0].with_check].map((printed) => {
      const match = /^\(tenant_id = (.+)\)$/s.exec(normalise(printed)!);
      if (!match) throw new Error(`unexpected reference policy: ${printed}`);
      return match[1];
    });
    return { read, written };
  } finally {
    await admin.query(`DROP SCHEMA ${schema} CASCADE`);
  }
}

/**
 * The expression a table's policies must hold, for reads (USING) or for
 * written rows (WITH CHECK). tenantIsolation's checks on written rows read
 * the tenant once per statement; the policies of users and their email
 * proofs, of their own shape, use the same expression for both.
 */
export function requiredComparison(table: string, currentTenant: PrintedTenant, written = false): string {
  if (table === 'users') return `(EXISTS ( SELECT 1 FROM memberships m WHERE ((m.user_id = users.id) AND (m.tenant_id = ${currentTenant.read}))))`;
  // A user's pending email proofs follow the user: reachable through a membership in the current tenant.
  if (table === 'email_verifications') {
    return `(EXISTS ( SELECT 1 FROM memberships m WHERE ((m.user_id = email_verifications.user_id) AND (m.tenant_id = ${currentTenant.read}))))`;
  }
  const tenant = written ? currentTenant.written : currentTenant.read;
  return table === 'tenants' ? `(id = ${tenant})` : `(tenant_id = ${tenant})`;
}

/** Problems with one table's policies: each names the table, the policy and what is wrong. */
export function policyProblems(policies: PolicyRow[], currentTenant: PrintedTenant): string[] {
  const problems: string[] = [];
  for (const policy of policies) {
    const required = requiredComparison(policy.tablename, currentTenant);
    const requiredCheck = requiredComparison(policy.tablename, currentTenant, true);
    const qual = normalise(policy.qual);
    const check = normalise(policy.with_check);
    const where = `${policy.tablename}.${policy.policyname} (${policy.cmd})`;
    const usesRow = ['SELECT', 'UPDATE', 'DELETE', 'ALL'].includes(policy.cmd);
    const writesRow = ['INSERT', 'UPDATE', 'ALL'].includes(policy.cmd);
    if (usesRow && qual !== required) problems.push(`${where}: USING is ${qual ?? 'missing'}, not ${required}`);
    // Without WITH CHECK, PostgreSQL checks new rows with USING (for UPDATE and ALL).
    if (writesRow && check !== requiredCheck && !(check === null && policy.cmd !== 'INSERT' && qual === required)) {
      problems.push(`${where}: WITH CHECK is ${check ?? 'missing'}, not ${requiredCheck}`);
    }
  }
  return problems;
}

export async function schemaPolicies(admin: Client, schema: string): Promise<PolicyRow[]> {
  const { rows } = await admin.query<PolicyRow>(
    `SELECT tablename, policyname, cmd, qual, with_check FROM pg_policies WHERE schemaname = $1 ORDER BY tablename, policyname`,
    [schema],
  );
  return rows;
}

export async function scratchSchema(admin: Client): Promise<string> {
  const schema = `rls_check_${randomBytes(4).toString('hex')}`;
  await admin.query(`CREATE SCHEMA ${schema}`);
  return schema;
}

/** Runs statements with `schema` first on the search path, so unqualified names land there. */
export async function inSchema(admin: Client, schema: string, statements: string[]): Promise<void> {
  await admin.query('BEGIN');
  try {
    await admin.query(`SET LOCAL search_path TO ${schema}, public`);
    for (const sql of statements) await admin.query(sql);
    await admin.query('COMMIT');
  } catch (error) {
    await admin.query('ROLLBACK');
    throw error;
  }
}
