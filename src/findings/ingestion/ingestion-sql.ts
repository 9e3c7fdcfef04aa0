/**
 * The statements of one ingestion batch, in the order they run. Rows come
 * from the session's staging tables (staging-tables.ts), filled by COPY just
 * before; finding ids are computed while staging. Each statement lists its
 * parameters (PostgreSQL refuses one it cannot type, so none is passed unused).
 */

/**
 * $1 tenant, $2 scan, $3 provider, $4 scan start. The first batch lists the
 * scan as unpublished (see publishScan), unless it already was published (a
 * batch run again after publication writes nothing new). Every batch also
 * moves the provider's findings version (finding_versions): a resource that
 * readers already see may get new attributes or tags with it, so a
 * remembered read of this provider's data is never reused past it. Answers
 * whether the provider has any latest state (has_latest): until its first
 * scan is published it has none, and the findings statement need not look.
 */
export const RECORD_UNPUBLISHED_SCAN_SQL = `
  WITH recorded AS (
    INSERT INTO unpublished_scans (scan_id, tenant_id, provider_id, started_at)
    SELECT $2, $1, $3, $4 WHERE NOT EXISTS (SELECT 1 FROM scan_ingestions WHERE scan_id = $2)
    ON CONFLICT (scan_id) DO NOTHING
  )
  INSERT INTO finding_versions AS v (tenant_id, provider_id, version) VALUES ($1, $3, 1)
  ON CONFLICT (tenant_id, provider_id) DO UPDATE SET version = v.version + 1
  RETURNING EXISTS (SELECT 1 FROM finding_latest l WHERE l.tenant_id = $1 AND l.provider_id = $3) AS has_latest`;

/**
 * $1 tenant, $2 provider, $3 scan. Unchanged resources are left alone: a scan
 * sees the same resources every time, and rewriting them all would only churn
 * the table. A resource seen for the first time keeps the scan's id
 * (first_scan_id): readers see it once that scan is published.
 */
export const UPSERT_RESOURCES_SQL = `
  INSERT INTO resources AS r (id, tenant_id, provider_id, uid, name, region, service, type, partition, details, metadata, first_scan_id)
  SELECT s.id, $1, $2, s.uid, s.name, s.region, s.service, s.type, s.partition, s.details, s.metadata, $3 FROM resource_stage s
  ON CONFLICT (tenant_id, provider_id, uid) DO UPDATE
     SET name = EXCLUDED.name, region = EXCLUDED.region, service = EXCLUDED.service, type = EXCLUDED.type,
         partition = EXCLUDED.partition, details = EXCLUDED.details, metadata = EXCLUDED.metadata, updated_at = now()
   WHERE (r.name, r.region, r.service, r.type, r.partition, r.details, r.metadata)
         IS DISTINCT FROM (EXCLUDED.name, EXCLUDED.region, EXCLUDED.service, EXCLUDED.type, EXCLUDED.partition, EXCLUDED.details, EXCLUDED.metadata)`;

/**
 * $1 tenant, $2 provider. The staged resources take the ids they are stored
 * under (one key look-up each). A resource the upsert inserted keeps its
 * staged id, a new random one; any other was stored before the batch.
 */
export const RESOLVE_RESOURCE_IDS_SQL = `
  UPDATE resource_stage s
     SET (id, stored_before) = (SELECT r.id, r.id <> s.id FROM resources r WHERE r.tenant_id = $1 AND r.provider_id = $2 AND r.uid = s.uid)`;

/**
 * $1 tenant, $2 scan, $3 provider, $4 scan start, $5 whether the provider
 * has any latest state (RECORD_UNPUBLISHED_SCAN_SQL's has_latest), $6 the
 * batch's distinct compliance maps, a JSON array each staged row indexes
 * (StagePayload.compliances). The
 * batch's findings, with deterministic ids (so a retried batch inserts
 * nothing twice, see the two variants below). delta and first_seen_at are
 * read from the latest state, which moves only when a scan is published:
 * every batch of a scan compares with the state as it was before the scan.
 * A provider's first scan would find nothing there, and with $5 false the
 * look-up is planned away (it cost 3 µs a finding even on an empty table). A reason the record was staged
 * with (the Mutelist's) comes before a mute rule's, as in Prowler. Mute rules
 * whose scope holds the provider are unnested once per batch and hash-joined,
 * not probed per finding.
 */
const INSERT_FINDINGS_BODY = `
  WITH rule AS (
    SELECT DISTINCT ON (muted.uid) muted.uid, m.reason
      FROM mute_rules m CROSS JOIN LATERAL unnest(m.finding_uids) AS muted(uid)
     WHERE m.enabled AND (m.provider_ids IS NULL OR $3 = ANY(m.provider_ids))
     ORDER BY muted.uid, m.inserted_at, m.id
  )
    INSERT INTO findings (id, tenant_id, scan_id, provider_id, uid, check_id, check_title, status, status_extended,
                          severity, delta, muted, muted_reason, first_seen_at, service, region, resource_type,
                          resource_uid, compliance, inserted_at)
    SELECT s.id, $1, $2, $3, s.uid, s.check_id, s.check_title, s.status, s.status_extended, s.severity,
           CASE WHEN latest.uid IS NULL THEN 'new' WHEN latest.status <> s.status THEN 'changed' END,
           s.muted OR rule.reason IS NOT NULL, COALESCE(s.muted_reason, rule.reason),
           COALESCE(latest.first_seen_at, $4), s.service, s.region, s.resource_type, s.resource_uid, $6::jsonb -> s.compliance_key, $4
      FROM finding_stage s
      -- LIMIT 1 keeps this a key look-up per staged row: joined as a set, the planner
      -- may read the provider's whole latest state for every batch.
      LEFT JOIN LATERAL (
        SELECT l.uid, l.status, l.first_seen_at FROM finding_latest l
         WHERE $5::boolean AND l.tenant_id = $1 AND l.provider_id = $3 AND l.uid = s.uid AND l.last_scan_id <> $2 LIMIT 1
      ) latest ON true
      LEFT JOIN rule ON rule.uid = s.uid`;

/**
 * The findings of a batch none of whose ids is stored yet: the usual case,
 * as the staged ids are distinct (StageEncoder) and new. Run plainly, with
 * INSERT_FINDINGS_SKIPPING_STORED_SQL as its fallback (insertFindings in
 * ingest-batch.ts, see insertPlainlyUnlessStored). The rows written are
 * counted from the command tag (`inserted` in database/sql.ts).
 */
export const INSERT_NEW_FINDINGS_SQL = INSERT_FINDINGS_BODY;

/** The same, leaving out findings already stored: a batch run again, or a uid an earlier batch of the scan also held. */
export const INSERT_FINDINGS_SKIPPING_STORED_SQL = `${INSERT_FINDINGS_BODY}
    ON CONFLICT (tenant_id, id) DO NOTHING`;

/**
 * $1 tenant. A finding's first resource is named by its own staged row, so
 * most findings need no row of link_stage, which holds the others. For a
 * batch whose findings were all new: their links cannot exist yet, and the
 * encoder stages each link once.
 */
export const LINK_NEW_FINDINGS_SQL = `
  INSERT INTO resource_finding_links (tenant_id, finding_id, resource_id)
  SELECT $1, l.finding_id, s.id
    FROM (SELECT f.id AS finding_id, f.resource_uid FROM finding_stage f WHERE f.resource_uid <> ''
          UNION ALL
          SELECT finding_id, resource_uid FROM link_stage) l
    JOIN resource_stage s ON s.uid = l.resource_uid`;

/** The same, leaving out links already stored (the fallback of LINK_NEW_FINDINGS_SQL). */
export const LINK_RESOURCES_SKIPPING_STORED_SQL = `${LINK_NEW_FINDINGS_SQL}
  ON CONFLICT DO NOTHING`;

/** $1 tenant. */
export const UPSERT_TAGS_SQL = `
  INSERT INTO resource_tags (id, tenant_id, key, value)
  SELECT gen_random_uuid(), $1, t.key, t.value
    FROM (SELECT DISTINCT tag.key, tag.value FROM resource_stage s, jsonb_each_text(s.tags) AS tag) t
  ON CONFLICT (tenant_id, key, value) DO NOTHING`;

/** $1 tenant. */
export const LINK_TAGS_SQL = `
  INSERT INTO resource_tag_links (tenant_id, resource_id, tag_id)
  SELECT $1, s.id, t.id
    FROM resource_stage s
    CROSS JOIN LATERAL jsonb_each_text(s.tags) AS tag
    JOIN resource_tags t ON t.tenant_id = $1 AND t.key = tag.key AND t.value = tag.value
  ON CONFLICT DO NOTHING`;

/**
 * $1 tenant. A resource's tags are what its latest record says: links to tags
 * it no longer has go. Only a resource stored before the batch can have
 * links; each one's are found through its key (OFFSET 0 keeps that look-up
 * per resource, whatever the statistics say), and the stale ones deleted by
 * their row addresses. Joined as a set, the planner read every tag link of
 * the tenant for every batch, a cost that grew with the tenant rather than
 * with the batch.
 */
export const UNLINK_STALE_TAGS_SQL = `
  DELETE FROM resource_tag_links l
   WHERE l.ctid = ANY(ARRAY(
     SELECT x.link
       FROM resource_stage s
      CROSS JOIN LATERAL (
        SELECT k.ctid AS link, k.tag_id FROM resource_tag_links k WHERE k.tenant_id = $1 AND k.resource_id = s.id OFFSET 0
      ) x
       JOIN resource_tags t ON t.id = x.tag_id
      WHERE s.stored_before AND NOT (s.tags ? t.key AND s.tags ->> t.key = t.value)))`;

/**
 * $1 tenant, $2 the batch's checks as {check id: {categories, resource_group}}.
 * Only checks whose facts are new or changed are written: in the steady
 * state (every scan reports the same) the statement locks nothing, so
 * concurrent imports of one tenant never queue behind each other's rows.
 */
export const UPSERT_CHECK_FACTS_SQL = `
  WITH facts AS (
    SELECT c.key AS check_id, ARRAY(SELECT jsonb_array_elements_text(c.value -> 'categories')) AS categories,
           c.value ->> 'resource_group' AS resource_group
      FROM jsonb_each($2::jsonb) c
  )
  INSERT INTO check_metadata AS m (tenant_id, check_id, categories, resource_group)
  SELECT $1, f.check_id, f.categories, f.resource_group FROM facts f
   WHERE NOT EXISTS (SELECT 1 FROM check_metadata k
                      WHERE k.tenant_id = $1 AND k.check_id = f.check_id
                        AND k.categories = f.categories AND k.resource_group IS NOT DISTINCT FROM f.resource_group)
   ORDER BY f.check_id
  ON CONFLICT (tenant_id, check_id) DO UPDATE SET categories = EXCLUDED.categories, resource_group = EXCLUDED.resource_group, updated_at = now()
   WHERE (m.categories, m.resource_group) IS DISTINCT FROM (EXCLUDED.categories, EXCLUDED.resource_group)`;
