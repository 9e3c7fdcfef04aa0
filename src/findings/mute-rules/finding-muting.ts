import type { EntityManager } from 'typeorm';
import { rows } from '../../database/sql';

/**
 * Mutes every stored finding with one of `uids`, in every scan since the uid
 * was first seen, of the providers in `providerIds` (null: every provider). No index on uid is needed: a finding's id is a function of
 * its scan and uid (finding_uuid), so the ids are computed from the scans of
 * the uid's provider and looked up by primary key. The running totals and
 * the providers' findings versions move with the findings; the scans touched
 * are returned, their summaries stale.
 */
export async function muteFindingsByUid(manager: EntityManager, uids: readonly string[], reason: string, providerIds: readonly string[] | null): Promise<string[]> {
  const touched = await rows<{ scan_id: string }>(
    manager,
    `WITH targets AS (
       SELECT finding_uuid(floor(extract(epoch FROM i.started_at) * 1000)::bigint, i.scan_id, l.uid) AS id
         FROM finding_latest l
         JOIN scan_ingestions i ON i.tenant_id = l.tenant_id AND i.provider_id = l.provider_id AND i.started_at >= l.first_seen_at
        WHERE l.uid = ANY($1::text[]) AND ($3::uuid[] IS NULL OR l.provider_id = ANY($3::uuid[]))
     ), muted AS (
       UPDATE findings f SET muted = true, muted_reason = $2, updated_at = now()
         FROM targets t
        WHERE f.id = t.id AND NOT f.muted
        RETURNING f.provider_id, f.scan_id, f.status, f.severity, COALESCE(f.delta, '') AS delta
     ), moved AS (
       INSERT INTO finding_counts AS c (tenant_id, provider_id, status, severity, muted, delta, findings)
       SELECT NULLIF(current_setting('api.tenant_id', true), '')::uuid, provider_id, status, severity, side.muted, delta,
              CASE WHEN side.muted THEN count(*) ELSE -count(*) END
         FROM muted CROSS JOIN (VALUES (false), (true)) AS side(muted)
        GROUP BY provider_id, status, severity, delta, side.muted
       ON CONFLICT (tenant_id, provider_id, status, severity, muted, delta) DO UPDATE SET findings = c.findings + EXCLUDED.findings
     ), version AS (
       INSERT INTO finding_versions AS v (tenant_id, provider_id, version)
       SELECT DISTINCT NULLIF(current_setting('api.tenant_id', true), '')::uuid, provider_id, 1 FROM muted
       ON CONFLICT (tenant_id, provider_id) DO UPDATE SET version = v.version + 1
     )
     SELECT DISTINCT scan_id FROM muted`,
    [uids, reason, providerIds],
  );
  return touched.map((t) => t.scan_id);
}
