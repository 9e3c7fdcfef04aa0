import { MigrationInterface, QueryRunner } from 'typeorm';
import { tenantIsolation } from '../src/database/rls-policy-sql';

/** Providers, their secrets, provider groups, the role and group links, and invitations. */
export class ProvidersAndAccess1763800000002 implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    const statements = [
      `CREATE TABLE providers (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
        provider varchar(32) NOT NULL,
        uid varchar(250) NOT NULL,
        alias varchar(100),
        connected boolean,
        connection_last_checked_at timestamptz,
        inserted_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        deleted_at timestamptz
      )`,
      // Only live providers must be unique: a deleted one may be added again at once.
      `CREATE UNIQUE INDEX providers_live_uid ON providers (tenant_id, provider, uid) WHERE deleted_at IS NULL`,
      `CREATE INDEX providers_tenant_live ON providers (tenant_id, inserted_at DESC) WHERE deleted_at IS NULL`,
      ...tenantIsolation('providers'),

      `CREATE TABLE provider_secrets (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
        provider_id uuid NOT NULL REFERENCES providers (id) ON DELETE CASCADE,
        name varchar(100),
        secret_type varchar(20) NOT NULL CHECK (secret_type IN ('static', 'role', 'service_account')),
        ciphertext text NOT NULL,
        key_id varchar(64) NOT NULL,
        inserted_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (provider_id)
      )`,
      `CREATE INDEX provider_secrets_tenant ON provider_secrets (tenant_id)`,
      ...tenantIsolation('provider_secrets'),

      `CREATE TABLE provider_groups (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
        name varchar(255) NOT NULL,
        inserted_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (tenant_id, name)
      )`,
      ...tenantIsolation('provider_groups'),

      `CREATE TABLE provider_group_memberships (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
        provider_group_id uuid NOT NULL REFERENCES provider_groups (id) ON DELETE CASCADE,
        provider_id uuid NOT NULL REFERENCES providers (id) ON DELETE CASCADE,
        inserted_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (provider_group_id, provider_id)
      )`,
      `CREATE INDEX provider_group_memberships_provider ON provider_group_memberships (provider_id)`,
      ...tenantIsolation('provider_group_memberships'),

      `CREATE TABLE role_provider_groups (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
        role_id uuid NOT NULL REFERENCES roles (id) ON DELETE CASCADE,
        provider_group_id uuid NOT NULL REFERENCES provider_groups (id) ON DELETE CASCADE,
        inserted_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (role_id, provider_group_id)
      )`,
      `CREATE INDEX role_provider_groups_group ON role_provider_groups (provider_group_id)`,
      ...tenantIsolation('role_provider_groups'),

      `CREATE TABLE invitations (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
        email varchar(254) NOT NULL,
        state varchar(10) NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'accepted', 'expired', 'revoked')),
        token_hash char(64) NOT NULL UNIQUE,
        expires_at timestamptz NOT NULL,
        inviter_id uuid REFERENCES users (id) ON DELETE SET NULL,
        inserted_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`,
      `CREATE INDEX invitations_tenant ON invitations (tenant_id, inserted_at DESC)`,
      ...tenantIsolation('invitations'),

      `CREATE TABLE invitation_roles (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
        invitation_id uuid NOT NULL REFERENCES invitations (id) ON DELETE CASCADE,
        role_id uuid NOT NULL REFERENCES roles (id) ON DELETE CASCADE,
        UNIQUE (invitation_id, role_id)
      )`,
      ...tenantIsolation('invitation_roles'),
    ];
    for (const sql of statements) await q.query(sql);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const table of ['invitation_roles', 'invitations', 'role_provider_groups', 'provider_group_memberships', 'provider_groups', 'provider_secrets', 'providers']) {
      await q.query(`DROP TABLE IF EXISTS ${table} CASCADE`);
    }
  }
}
