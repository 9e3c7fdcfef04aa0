import { MigrationInterface, QueryRunner } from 'typeorm';
import { tenantIsolation } from '../src/database/rls-policy-sql';

/**
 * Row filter rules, their links to roles and datasets, and a per-tenant
 * version that every change to them bumps in the same transaction, so API
 * processes can cache the compiled rules and still see a change on the next
 * request.
 */
export class RlsRules1763800000005 implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    const statements = [
      `CREATE TABLE rls_rules (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
        name varchar(255) NOT NULL CHECK (length(name) >= 1),
        description text,
        filter_type varchar(10) NOT NULL CHECK (filter_type IN ('Regular', 'Base')),
        group_key varchar(255),
        clause text NOT NULL,
        -- The compiler's re-rendered form ({sql, params}): requests never parse the clause again.
        compiled jsonb NOT NULL,
        created_by uuid REFERENCES users (id) ON DELETE SET NULL,
        changed_by uuid REFERENCES users (id) ON DELETE SET NULL,
        inserted_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT rls_rules_tenant_name_unique UNIQUE (tenant_id, name),
        -- Lets the link tables refer to (tenant_id, id), so a link cannot cross tenants.
        CONSTRAINT rls_rules_tenant_id_unique UNIQUE (tenant_id, id)
      )`,
      ...tenantIsolation('rls_rules'),

      `CREATE TABLE rls_rule_roles (
        tenant_id uuid NOT NULL,
        rule_id uuid NOT NULL,
        role_id uuid NOT NULL REFERENCES roles (id) ON DELETE CASCADE,
        PRIMARY KEY (rule_id, role_id),
        FOREIGN KEY (tenant_id, rule_id) REFERENCES rls_rules (tenant_id, id) ON DELETE CASCADE
      )`,
      `CREATE INDEX rls_rule_roles_role ON rls_rule_roles (role_id)`,
      ...tenantIsolation('rls_rule_roles'),

      `CREATE TABLE rls_rule_tables (
        tenant_id uuid NOT NULL,
        rule_id uuid NOT NULL,
        table_name varchar(63) NOT NULL,
        PRIMARY KEY (rule_id, table_name),
        FOREIGN KEY (tenant_id, rule_id) REFERENCES rls_rules (tenant_id, id) ON DELETE CASCADE
      )`,
      `CREATE INDEX rls_rule_tables_table ON rls_rule_tables (tenant_id, table_name)`,
      ...tenantIsolation('rls_rule_tables'),

      // No foreign key to tenants: the triggers below write here while a tenant's
      // rows are being deleted by cascade, and a version row of a deleted tenant is harmless.
      `CREATE TABLE rls_rule_versions (
        tenant_id uuid PRIMARY KEY,
        version bigint NOT NULL
      )`,
      ...tenantIsolation('rls_rule_versions'),

      // A trigger rather than application code, so that every path bumps the
      // version: the API, and cascades such as a role's deletion removing its rule links.
      `CREATE FUNCTION rls_rules_bump_version() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE
        changed_tenant uuid;
      BEGIN
        IF TG_OP = 'DELETE' THEN changed_tenant := OLD.tenant_id; ELSE changed_tenant := NEW.tenant_id; END IF;
        INSERT INTO rls_rule_versions AS v (tenant_id, version) VALUES (changed_tenant, 1)
          ON CONFLICT (tenant_id) DO UPDATE SET version = v.version + 1;
        RETURN NULL;
      END $$`,
      ...['rls_rules', 'rls_rule_roles', 'rls_rule_tables'].map(
        (table) =>
          `CREATE TRIGGER ${table}_bump_version AFTER INSERT OR UPDATE OR DELETE ON ${table}
             FOR EACH ROW EXECUTE FUNCTION rls_rules_bump_version()`,
      ),
    ];
    for (const sql of statements) await q.query(sql);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const table of ['rls_rule_versions', 'rls_rule_tables', 'rls_rule_roles', 'rls_rules']) {
      await q.query(`DROP TABLE IF EXISTS ${table} CASCADE`);
    }
    await q.query(`DROP FUNCTION IF EXISTS rls_rules_bump_version()`);
  }
}
