import { MigrationInterface, QueryRunner } from 'typeorm';
import { tenantIsolation } from '../src/database/rls-policy-sql';

/**
 * API keys: a salted hash of the secret and a short visible prefix. The
 * prefix is unique across tenants because a request presents the key before
 * any tenant is known, and the look-up by prefix is how the tenant is found.
 */
export class ApiKeys1763800000160 implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    const statements = [
      `CREATE TABLE api_keys (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
        user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        name varchar(100) NOT NULL CHECK (length(name) >= 3),
        prefix varchar(11) NOT NULL,
        salt bytea NOT NULL,
        key_hash bytea NOT NULL,
        expires_at timestamptz,
        revoked boolean NOT NULL DEFAULT false,
        last_used_at timestamptz,
        inserted_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT api_keys_prefix_unique UNIQUE (prefix),
        CONSTRAINT api_keys_tenant_name_unique UNIQUE (tenant_id, name)
      )`,
      `CREATE INDEX api_keys_user ON api_keys (user_id)`,
      ...tenantIsolation('api_keys'),
    ];
    for (const sql of statements) await q.query(sql);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS api_keys CASCADE`);
  }
}
