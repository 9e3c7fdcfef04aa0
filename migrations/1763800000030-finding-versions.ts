import { MigrationInterface, QueryRunner } from 'typeorm';
import { tenantIsolation } from '../src/database/rls-policy-sql';

/**
 * A counter per provider that every write to its findings moves, in the
 * writing statement's own transaction. A count remembered between requests
 * (FilteredCountCache) is reused only while the counters of the providers it
 * covered are unchanged, so it is never older than the data a reader can see.
 */
export class FindingVersions1763800000030 implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    for (const sql of [
      `CREATE TABLE finding_versions (
        tenant_id uuid NOT NULL,
        provider_id uuid NOT NULL,
        version bigint NOT NULL,
        PRIMARY KEY (tenant_id, provider_id)
      )`,
      ...tenantIsolation('finding_versions'),
    ]) {
      await q.query(sql);
    }
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS finding_versions CASCADE`);
  }
}
