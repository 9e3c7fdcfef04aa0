import type { EntityManager } from 'typeorm';
import { affected, rows } from '../../database/sql';
import { addIdBounds } from '../scans/scan-ranges';
import { idRangeOfMs, uuidAtMs } from '../storage/finding-ids';
import { SqlConditions } from './sql-conditions';
import { lexemesSql } from './text-search';

/**
 * A text search needs no date window: finding_word_ranges says, per provider,
 * between which scan starts each word of its findings' text was seen, so a
 * search reads only the providers and days in which every one of its words
 * was seen. Exact for a word seen in one scan, and never narrower than the
 * truth: a finding holding every word of the query lies in a scan whose
 * start is within each word's range, and a scan whose words are not
 * recorded yet (its aggregation has not run) is taken to hold them all.
 */

/** Finding ids of one provider that may hold a match: [from, to). */
export interface SearchWindow {
  providerId: string;
  from: string;
  to: string;
}

/**
 * Widens the ranges of the words `select` gives (tenant_id, provider_id,
 * word, first_scan_at, last_scan_at), adding the words not seen before; a
 * range that already covers its row is left unwritten.
 */
export function upsertWordRangesSql(select: string): string {
  return `INSERT INTO finding_word_ranges AS r (tenant_id, provider_id, word, first_scan_at, last_scan_at)
  ${select}
  ON CONFLICT (tenant_id, word, provider_id) DO UPDATE
     SET first_scan_at = least(r.first_scan_at, excluded.first_scan_at),
         last_scan_at = greatest(r.last_scan_at, excluded.last_scan_at)
   WHERE r.first_scan_at > excluded.first_scan_at OR r.last_scan_at < excluded.last_scan_at`;
}

interface RecordedScan {
  tenant_id: string;
  provider_id: string;
  started_at: Date;
}

/**
 * Records the words of a scan's findings, once per scan (the text of a
 * finding never changes, so a later re-aggregation has nothing to add).
 * `scanFindings` selects the scan's findings over alias `f` from `bounds`
 * ($1 scan, $2 and $3 its id range). Rows go in word order, so two scans of
 * one provider recorded at once take their row locks in the same order.
 */
export async function recordSearchWords(manager: EntityManager, scanFindings: string, bounds: [string, string, string]): Promise<void> {
  const [scan] = await rows<RecordedScan>(
    manager,
    `UPDATE scan_ingestions SET words_recorded_at = now()
      WHERE scan_id = $1 AND words_recorded_at IS NULL
      RETURNING tenant_id, provider_id, started_at`,
    [bounds[0]],
  );
  if (!scan) return;
  await affected(
    manager,
    upsertWordRangesSql(`
     SELECT $4::uuid, $5::uuid, w.word, $6::timestamptz, $6::timestamptz
       FROM (SELECT DISTINCT w.word FROM findings f
              CROSS JOIN LATERAL unnest(${lexemesSql("coalesce(f.status_extended, '')")}) AS w(word)
              WHERE ${scanFindings}) w
      ORDER BY w.word`),
    [...bounds, scan.tenant_id, scan.provider_id, scan.started_at],
  );
}

interface WindowRow {
  provider_id: string;
  first_at: Date;
  last_at: Date;
}

/**
 * The windows of a search for `query` among the providers in scope: for
 * each provider, from the latest first sighting to the earliest last
 * sighting of the query's words (no window when some word was never seen,
 * or when the words were never seen together), widened to take in each of
 * its scans whose words are not recorded. The words are matched by text
 * equality, which the planner may apply before the tenant policy, so the
 * primary key serves the look-up.
 */
export async function searchWindows(manager: EntityManager, query: string, scopeSql: (c: SqlConditions) => string): Promise<SearchWindow[]> {
  const conditions = new SqlConditions();
  const scope = scopeSql(conditions);
  const words = lexemesSql(`${conditions.param(query)}::text`);
  const found = await rows<WindowRow>(
    manager,
    `SELECT s.provider_id, min(s.first_at) AS first_at, max(s.last_at) AS last_at FROM (
       SELECT w.provider_id, max(w.first_scan_at) AS first_at, min(w.last_scan_at) AS last_at
         FROM finding_word_ranges w
        WHERE w.word = ANY(${words}) AND w.provider_id = ANY(${scope})
        GROUP BY w.provider_id
       HAVING count(*) = cardinality(${words}) AND max(w.first_scan_at) <= min(w.last_scan_at)
       UNION ALL
       SELECT i.provider_id, i.started_at, i.started_at FROM scan_ingestions i
        WHERE i.words_recorded_at IS NULL AND i.provider_id = ANY(${scope})
     ) s GROUP BY s.provider_id`,
    conditions.params,
  );
  return found.map((w) => ({ providerId: w.provider_id, from: uuidAtMs(w.first_at.getTime()), to: idRangeOfMs(w.last_at.getTime()).to }));
}

/**
 * Restricts findings (alias `f`) to the windows: one range per provider, and
 * the range they span together, which lets PostgreSQL skip the partitions
 * outside it.
 */
export function addSearchWindows(conditions: SqlConditions, windows: readonly SearchWindow[]): void {
  if (windows.length === 0) {
    conditions.add('false');
    return;
  }
  const each = windows.map(
    (w) => `(f.provider_id = ${conditions.param(w.providerId)}::uuid AND f.id >= ${conditions.param(w.from)}::uuid AND f.id < ${conditions.param(w.to)}::uuid)`,
  );
  conditions.add(`(${each.join(' OR ')})`);
  const from = windows.map((w) => w.from).reduce((a, b) => (a < b ? a : b));
  const to = windows.map((w) => w.to).reduce((a, b) => (a > b ? a : b));
  addIdBounds(conditions, 'f.id', { from, to });
}
