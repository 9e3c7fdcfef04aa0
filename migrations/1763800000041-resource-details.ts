import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What Prowler keeps of a resource beside its name and place: the cloud
 * partition (`resources[].cloud_partition` in OCSF), the check's free-text
 * details (`data.details`) and the provider's metadata (`data.metadata`,
 * kept as the JSON text Prowler answers it as).
 */
export class ResourceDetails1763800000041 implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE resources ADD COLUMN partition text, ADD COLUMN details text, ADD COLUMN metadata text`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE resources DROP COLUMN partition, DROP COLUMN details, DROP COLUMN metadata`);
  }
}
