import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from 'pg';
import { APP_GROUP_ROLE, CURRENT_TENANT } from '../../src/database/rls-policy-sql';
import { newId } from '../../src/database/uuid';
import { textSearchSql } from '../../src/findings/query/text-search';
import { adminClient, appClient } from '../support/database';
import { inSchema, scratchSchema } from '../support/rls-policy-check';

/**
 * The search's cheap guard (text-search.ts) must never drop a row the
 * full-text match keeps: both are evaluated by PostgreSQL, side by side, over
 * texts chosen to trip a substring test (case, non-ASCII letters, LIKE's own
 * characters, the parser's compound tokens) and over random texts searched
 * for pieces of themselves.
 */
describe('findings and resources search: the substring guard before the full-text match', () => {
  let db: Client;

  before(async () => {
    db = await adminClient();
  });
  after(async () => {
    await db.end();
  });

  /** Every (text, query) pair: [guarded search, plain full-text match]. */
  async function compare(texts: string[], queries: string[]): Promise<Array<{ t: string; q: string; guarded: boolean | null; plain: boolean | null }>> {
    const { rows } = await db.query(
      `SELECT t, q, ${textSearchSql('t', 'q')} AS guarded, to_tsvector('simple', t) @@ plainto_tsquery('simple', q) AS plain
         FROM unnest($1::text[]) t CROSS JOIN unnest($2::text[]) q`,
      [texts, queries],
    );
    return rows;
  }

  it('keeps exactly the rows the full-text match keeps, for texts that trip a substring test', async () => {
    const texts = [
      'S3 Bucket my-bucket-42 has server access logging disabled.',
      'IAM Role ADMIN_ROLE can assume *; Policy arn:aws:iam::123456789012:policy/Full%Access',
      'Security group sg-0123 allows 0.0.0.0/0 on port 22 (ssh) — ÄRGER im Österreich-Konto',
      'ΣΊΣΥΦΟΣ wrote to https://Example.COM/Path?x=1 and mail@Example.org, version 1.2.3, 1.5e10',
      'back\\slash and under_score and 100% sure, <b>tag</b> &amp; İstanbul',
      'Straße MAẞSTAB ǅemal',
      '',
    ];
    const queries = [
      'bucket', 'MY-BUCKET-42', 'bucket-42', 'logging DISABLED', 'admin_role', 'role', 'full%access', 'Full', '%', '_', '\\',
      'ärger', 'ÖSTERREICH-konto', 'konto', 'σίσυφος', 'example.com', 'https://example.com/path?x=1', 'mail@example.org',
      '1.2.3', '1.5e10', 'back\\slash', 'under_score', '100%', 'tag', 'amp', 'istanbul', 'İstanbul', 'straße', 'maßstab',
      'ǆemal', '!!!', '', 'no such words', '0.0.0.0/0', 'ssh',
    ];
    const rows = await compare(texts, queries);
    const differing = rows.filter((r) => Boolean(r.guarded) !== Boolean(r.plain));
    assert.deepEqual(differing, []);
    // Not a comparison of two empty answers.
    assert.ok(rows.filter((r) => r.plain).length >= 20, `${rows.filter((r) => r.plain).length} matches`);
  });

  it('keeps exactly the rows the full-text match keeps, for random texts searched for pieces of themselves', async () => {
    let seed = 7;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const alphabet = 'abcXYZéÉßΣσ019_%\\-./@:;,!? ';
    const texts = Array.from({ length: 200 }, () => Array.from({ length: 10 + Math.floor(random() * 60) }, () => alphabet[Math.floor(random() * alphabet.length)]).join(''));
    const queries = texts.slice(0, 60).map((text) => {
      const start = Math.floor(random() * text.length);
      return text.slice(start, start + 1 + Math.floor(random() * 12));
    });
    const rows = await compare(texts, queries);
    const differing = rows.filter((r) => Boolean(r.guarded) !== Boolean(r.plain));
    assert.deepEqual(differing, []);
    assert.ok(rows.filter((r) => r.plain).length >= 60, `${rows.filter((r) => r.plain).length} matches`);
  });

  it('is what a search can do under row-level security: a text index serves the table owner, never the app role', async () => {
    const schema = await scratchSchema(db);
    const tenants = [newId(), newId()];
    const search = `to_tsvector('simple', t) @@ plainto_tsquery('simple', 'word123')`;
    const planOf = async (client: Client) => {
      await client.query('BEGIN');
      try {
        await client.query(`SELECT set_config('api.tenant_id', $1, true)`, [tenants[0]]);
        await client.query('SET LOCAL enable_seqscan = off');
        const { rows } = await client.query(`EXPLAIN SELECT id FROM ${schema}.texts WHERE ${search}`);
        return rows.map((r) => r['QUERY PLAN'] as string).join('\n');
      } finally {
        await client.query('ROLLBACK');
      }
    };
    const app = await appClient();
    try {
      await inSchema(db, schema, [
        `CREATE TABLE texts (tenant_id uuid NOT NULL, id int NOT NULL, t text NOT NULL, PRIMARY KEY (tenant_id, id))`,
        `INSERT INTO texts SELECT (ARRAY['${tenants[0]}', '${tenants[1]}']::uuid[])[1 + g % 2], g, 'word' || g || ' and more words' FROM generate_series(1, 20000) g`,
        `CREATE INDEX texts_search ON texts USING gin (to_tsvector('simple', t))`,
        // As the tenant tables have it, less FORCE: the owner, exempt, shows what the index can do.
        `ALTER TABLE texts ENABLE ROW LEVEL SECURITY`,
        `CREATE POLICY texts_select ON texts FOR SELECT USING (tenant_id = ${CURRENT_TENANT})`,
        `GRANT USAGE ON SCHEMA ${schema} TO ${APP_GROUP_ROLE}`,
        `GRANT SELECT ON texts TO ${APP_GROUP_ROLE}`,
        `ANALYZE texts`,
      ]);
      assert.match(await planOf(db), /Bitmap Index Scan on texts_search/);
      // `@@` is not leakproof, so the tenant policy goes first and the search is left to filter its rows.
      const underPolicy = await planOf(app);
      assert.doesNotMatch(underPolicy, /texts_search/);
      assert.match(underPolicy, /Filter: .*@@/);
    } finally {
      await app.end();
      await db.query(`DROP SCHEMA ${schema} CASCADE`);
    }
  });

  it('reads the text of a row the guard rejects no further', async () => {
    // The plan evaluates the guard first: the full-text match is the last condition of the filter.
    const { rows } = await db.query(
      `EXPLAIN (VERBOSE) SELECT 1 FROM (VALUES ('some text'), ('other text')) s(t) WHERE ${textSearchSql('s.t', "'text'::text")}`,
    );
    const filter = rows.map((r) => r['QUERY PLAN'] as string).find((line) => line.includes('Filter:')) ?? '';
    assert.ok(filter.indexOf('~~*') >= 0 && filter.indexOf('~~*') < filter.indexOf('@@'), filter);
  });
});
