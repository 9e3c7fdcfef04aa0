/**
 * SQL that migrations use to put a table under tenant isolation. Kept in one
 * place so every table gets the same four policies and grants.
 */
export const APP_GROUP_ROLE = 'cspm_app';

/** NULL when the setting is missing or empty, so a comparison denies instead of erroring. */
export const CURRENT_TENANT = "NULLIF(current_setting('api.tenant_id', true), '')::uuid";

/**
 * The check on rows a statement writes: the tenant read once per statement
 * (an InitPlan) instead of once per row, which cost about 0.3 µs a row
 * (1,000,000 inserted rows: 0.6 s against 0.88 s). Reads keep the plain
 * comparison, which the planner folds into their index conditions.
 */
export function writtenRowCheck(column: string): string {
  return `${column} = (SELECT ${CURRENT_TENANT})`;
}

export function tenantIsolation(table: string, column = 'tenant_id'): string[] {
  const match = `${column} = ${CURRENT_TENANT}`;
  const written = writtenRowCheck(column);
  return [
    `ALTER TABLE ${table} ENABLE ROW LEVEL SECURITY`,
    `ALTER TABLE ${table} FORCE ROW LEVEL SECURITY`,
    `CREATE POLICY ${table}_select ON ${table} FOR SELECT USING (${match})`,
    `CREATE POLICY ${table}_insert ON ${table} FOR INSERT WITH CHECK (${written})`,
    `CREATE POLICY ${table}_update ON ${table} FOR UPDATE USING (${match}) WITH CHECK (${written})`,
    `CREATE POLICY ${table}_delete ON ${table} FOR DELETE USING (${match})`,
    `GRANT SELECT, INSERT, UPDATE, DELETE ON ${table} TO ${APP_GROUP_ROLE}`,
  ];
}

export const CREATE_APP_GROUP_ROLE = `DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '${APP_GROUP_ROLE}') THEN
    CREATE ROLE ${APP_GROUP_ROLE} NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
  END IF;
END $$`;
