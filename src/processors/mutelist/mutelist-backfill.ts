import type { EntityManager } from 'typeorm';
import { rows } from '../../database/sql';
import { CompiledMutelist, MUTELIST_REASON, unrollTags } from './mutelist-matcher';

/** A latest finding as the backfill reads it: what the Mutelist looks at, and its muting now. */
export interface LatestFindingRow {
  id: string;
  uid: string;
  check_id: string;
  region: string;
  resource_uid: string;
  tags: Record<string, string> | null;
  muted: boolean;
  muted_reason: string | null;
  /** The reason of the first enabled mute rule naming it, which takes over when the Mutelist lets it go. */
  rule_reason: string | null;
}

export interface MutingChange {
  id: string;
  wasMuted: boolean;
  muted: boolean;
  reason: string | null;
}

/**
 * One page (keyset on uid) of a provider's latest findings, each with its
 * resource's tags and the reason of a mute rule that names it.
 */
export function readLatestFindings(manager: EntityManager, providerId: string, afterUid: string, limit: number): Promise<LatestFindingRow[]> {
  return rows<LatestFindingRow>(
    manager,
    `SELECT f.id, l.uid, f.check_id, f.region, f.resource_uid, f.muted, f.muted_reason, tags.tags, rule.reason AS rule_reason
       FROM finding_latest l
       JOIN findings f ON f.tenant_id = l.tenant_id AND f.id = l.last_finding_id
       LEFT JOIN LATERAL (
         SELECT jsonb_object_agg(t.key, t.value) AS tags
           FROM resources r
           JOIN resource_tag_links rl ON rl.tenant_id = r.tenant_id AND rl.resource_id = r.id
           JOIN resource_tags t ON t.tenant_id = rl.tenant_id AND t.id = rl.tag_id
          WHERE r.tenant_id = l.tenant_id AND r.provider_id = l.provider_id AND r.uid = f.resource_uid
       ) tags ON true
       LEFT JOIN LATERAL (
         SELECT m.reason FROM mute_rules m
          WHERE m.enabled AND l.uid = ANY(m.finding_uids) AND (m.provider_ids IS NULL OR l.provider_id = ANY(m.provider_ids))
          ORDER BY m.inserted_at, m.id LIMIT 1
       ) rule ON true
      WHERE l.provider_id = $1 AND l.uid > $2
      ORDER BY l.uid
      LIMIT $3`,
    [providerId, afterUid, limit],
  );
}

/**
 * What must change for the page to agree with the Mutelist (null: none in
 * force): a finding it mutes is muted with its reason, which comes before a
 * mute rule's as at ingestion; one it had muted and mutes no longer falls
 * back to its mute rule, or is unmuted. Muting from anything else (the file
 * said so) is left alone. Worked out from the stored state alone, so a second
 * run finds nothing to change.
 */
export function mutingChanges(mutelist: CompiledMutelist | null, account: string, findings: readonly LatestFindingRow[]): MutingChange[] {
  const changes: MutingChange[] = [];
  for (const finding of findings) {
    const listed = mutelist?.mutes({ account, checkId: finding.check_id, region: finding.region, resource: finding.resource_uid, tags: unrollTags(finding.tags) }) ?? false;
    let wanted: { muted: boolean; reason: string | null } | null = null;
    if (listed) wanted = { muted: true, reason: MUTELIST_REASON };
    else if (finding.muted_reason === MUTELIST_REASON) wanted = finding.rule_reason ? { muted: true, reason: finding.rule_reason } : { muted: false, reason: null };
    if (wanted && (wanted.muted !== finding.muted || wanted.reason !== finding.muted_reason)) {
      changes.push({ id: finding.id, wasMuted: finding.muted, ...wanted });
    }
  }
  return changes;
}

/**
 * Applies the changes of one page in one statement, moving the running
 * totals by the rows whose muted flag really flipped and the provider's
 * findings version, as muting by a rule does. A row changed meanwhile (its
 * muted flag no longer what was read) is left for the next run. Answers the
 * scans touched.
 */
export async function applyMutingChanges(manager: EntityManager, providerId: string, changes: readonly MutingChange[]): Promise<string[]> {
  if (changes.length === 0) return [];
  const touched = await rows<{ scan_id: string }>(
    manager,
    `WITH changed AS (
       UPDATE findings f SET muted = c.muted, muted_reason = c.reason, updated_at = now()
         FROM unnest($1::uuid[], $2::boolean[], $3::boolean[], $4::text[]) AS c(id, was_muted, muted, reason)
        WHERE f.id = c.id AND f.provider_id = $5 AND f.muted = c.was_muted
        RETURNING f.scan_id, f.status, f.severity, COALESCE(f.delta, '') AS delta, c.was_muted, c.muted
     ), moved AS (
       INSERT INTO finding_counts AS fc (tenant_id, provider_id, status, severity, muted, delta, findings)
       SELECT NULLIF(current_setting('api.tenant_id', true), '')::uuid, $5, status, severity, side.muted, delta,
              sum(CASE WHEN side.muted = changed.muted THEN 1 ELSE -1 END)
         FROM changed CROSS JOIN (VALUES (false), (true)) AS side(muted)
        WHERE changed.was_muted <> changed.muted
        GROUP BY status, severity, delta, side.muted
       ON CONFLICT (tenant_id, provider_id, status, severity, muted, delta) DO UPDATE SET findings = fc.findings + EXCLUDED.findings
     ), version AS (
       INSERT INTO finding_versions AS v (tenant_id, provider_id, version)
       SELECT NULLIF(current_setting('api.tenant_id', true), '')::uuid, $5, 1 WHERE EXISTS (SELECT 1 FROM changed)
       ON CONFLICT (tenant_id, provider_id) DO UPDATE SET version = v.version + 1
     )
     SELECT DISTINCT scan_id FROM changed`,
    [changes.map((c) => c.id), changes.map((c) => c.wasMuted), changes.map((c) => c.muted), changes.map((c) => c.reason), providerId],
  );
  return touched.map((t) => t.scan_id);
}
