import { MigrationInterface, QueryRunner } from 'typeorm';
import { APP_GROUP_ROLE, CREATE_APP_GROUP_ROLE, CURRENT_TENANT, tenantIsolation } from '../src/database/rls-policy-sql';

/** Tenants, users, memberships, roles and refresh tokens, each under row-level security. */
export class Platform1763800000001 implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    const statements = [
      CREATE_APP_GROUP_ROLE,
      `GRANT USAGE ON SCHEMA public TO ${APP_GROUP_ROLE}`,

      `CREATE TABLE tenants (
        id uuid PRIMARY KEY,
        name varchar(100) NOT NULL,
        inserted_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        deleted_at timestamptz
      )`,
      // A tenant row is its own tenant: the policy compares its id.
      ...tenantIsolation('tenants', 'id'),

      `CREATE TABLE users (
        id uuid PRIMARY KEY,
        name varchar(150) NOT NULL,
        email varchar(254) NOT NULL,
        password text NOT NULL,
        company_name varchar(150),
        is_active boolean NOT NULL DEFAULT true,
        date_joined timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`,
      `CREATE UNIQUE INDEX users_email_unique ON users (lower(email))`,

      `CREATE TABLE memberships (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
        user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        role varchar(10) NOT NULL CHECK (role IN ('owner', 'member')),
        date_joined timestamptz NOT NULL DEFAULT now(),
        UNIQUE (user_id, tenant_id)
      )`,
      `CREATE INDEX memberships_tenant ON memberships (tenant_id)`,
      ...tenantIsolation('memberships'),

      // Users belong to no single tenant: a user row is visible, and writable, only
      // through a membership in the current tenant. Sign-up inserts as the owner role.
      `ALTER TABLE users ENABLE ROW LEVEL SECURITY`,
      `ALTER TABLE users FORCE ROW LEVEL SECURITY`,
      `CREATE POLICY users_member_select ON users FOR SELECT USING (
        EXISTS (SELECT 1 FROM memberships m WHERE m.user_id = users.id AND m.tenant_id = ${CURRENT_TENANT}))`,
      `CREATE POLICY users_member_update ON users FOR UPDATE USING (
        EXISTS (SELECT 1 FROM memberships m WHERE m.user_id = users.id AND m.tenant_id = ${CURRENT_TENANT}))`,
      `GRANT SELECT, UPDATE ON users TO ${APP_GROUP_ROLE}`,

      `CREATE TABLE roles (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
        name varchar(255) NOT NULL,
        manage_users boolean NOT NULL DEFAULT false,
        manage_account boolean NOT NULL DEFAULT false,
        manage_billing boolean NOT NULL DEFAULT false,
        manage_providers boolean NOT NULL DEFAULT false,
        manage_integrations boolean NOT NULL DEFAULT false,
        manage_scans boolean NOT NULL DEFAULT false,
        unlimited_visibility boolean NOT NULL DEFAULT false,
        inserted_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (tenant_id, name)
      )`,
      ...tenantIsolation('roles'),

      // The order of assignment decides a user's "first" role: (inserted_at, id), ids being UUIDv7.
      `CREATE TABLE user_roles (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
        user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        role_id uuid NOT NULL REFERENCES roles (id) ON DELETE CASCADE,
        inserted_at timestamptz NOT NULL DEFAULT clock_timestamp(),
        UNIQUE (user_id, role_id)
      )`,
      `CREATE INDEX user_roles_user_order ON user_roles (user_id, inserted_at, id)`,
      `CREATE INDEX user_roles_role ON user_roles (role_id)`,
      ...tenantIsolation('user_roles'),

      // Refresh tokens are read and rotated as the owner role at sign-in; RLS still
      // covers them so the app role can never list another tenant's sessions.
      `CREATE TABLE refresh_tokens (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
        user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        family_id uuid NOT NULL,
        expires_at timestamptz NOT NULL,
        used_at timestamptz,
        revoked_at timestamptz,
        inserted_at timestamptz NOT NULL DEFAULT now()
      )`,
      `CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id)`,
      `CREATE INDEX refresh_tokens_user_tenant ON refresh_tokens (user_id, tenant_id)`,
      ...tenantIsolation('refresh_tokens'),
    ];
    for (const sql of statements) await q.query(sql);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const table of ['refresh_tokens', 'user_roles', 'roles', 'memberships', 'users', 'tenants']) {
      await q.query(`DROP TABLE IF EXISTS ${table} CASCADE`);
    }
  }
}
