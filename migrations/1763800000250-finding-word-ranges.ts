import { MigrationInterface, QueryRunner } from 'typeorm';
import { tenantIsolation } from '../src/database/rls-policy-sql';

/**
 * Where in a provider's history each word of its findings' text was seen:
 * the starts of the first and the last scan whose findings held it. A text
 * search without a date or scan filter reads only the findings of the
 * providers and days in which every word it asks for was seen
 * (search-word-ranges.ts). The words are looked up by btree equality on
 * text, which, unlike any full-text or array operator, PostgreSQL may apply
 * before the tenant policy, so the index serves the app role.
 *
 * A scan's words are recorded once, by its aggregation; scan_ingestions says
 * which scans are recorded. Existing scans are recorded here; those this
 * role's policies hide stay unrecorded, which searches treat as holding
 * every word.
 */
export class FindingWordRanges1763800000250 implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    const statements = [
      `CREATE TABLE finding_word_ranges (
        tenant_id uuid NOT NULL,
        provider_id uuid NOT NULL,
        word text NOT NULL,
        first_scan_at timestamptz NOT NULL,
        last_scan_at timestamptz NOT NULL,
        PRIMARY KEY (tenant_id, word, provider_id)
      )`,
      `CREATE INDEX finding_word_ranges_provider ON finding_word_ranges (provider_id)`,
      ...tenantIsolation('finding_word_ranges'),
      `ALTER TABLE scan_ingestions ADD COLUMN words_recorded_at timestamptz`,
      `CREATE INDEX scan_ingestions_words_unrecorded ON scan_ingestions (tenant_id, provider_id) WHERE words_recorded_at IS NULL`,
      `INSERT INTO finding_word_ranges (tenant_id, provider_id, word, first_scan_at, last_scan_at)
       SELECT i.tenant_id, i.provider_id, w.word, min(i.started_at), max(i.started_at)
         FROM scan_ingestions i
         JOIN findings f ON f.tenant_id = i.tenant_id AND f.scan_id = i.scan_id
        CROSS JOIN LATERAL unnest(tsvector_to_array(to_tsvector('simple', coalesce(f.status_extended, '')))) AS w(word)
        GROUP BY i.tenant_id, i.provider_id, w.word`,
      `UPDATE scan_ingestions SET words_recorded_at = now()`,
    ];
    for (const sql of statements) await q.query(sql);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX IF EXISTS scan_ingestions_words_unrecorded`);
    await q.query(`ALTER TABLE scan_ingestions DROP COLUMN IF EXISTS words_recorded_at`);
    await q.query(`DROP TABLE IF EXISTS finding_word_ranges`);
  }
}
