import { rows } from '../database/sql';
import { tenantManager } from '../database/tenant-context';
import { PUBLISHED_FINDINGS_SQL } from '../findings/scans/scan-ranges';
import { visibleProviderCondition } from '../rbac/provider-visibility';
import { SqlParams } from '../rbac/list-query-sql';
import { JiraFinding } from './targets/jira-target';

/**
 * The ids among `ids` of findings the caller may see: of live providers
 * visible to their role (a Jira integration is tenant-wide, the findings it
 * sends are not). Kept in the order given.
 */
export async function visibleFindingIds(ids: readonly string[]): Promise<string[]> {
  if (ids.length === 0) return [];
  const params = new SqlParams();
  const where = [`f.id = ANY(${params.add([...ids])}::uuid[])`, 'p.deleted_at IS NULL', PUBLISHED_FINDINGS_SQL];
  const visible = visibleProviderCondition('f.provider_id', params);
  if (visible) where.push(visible);
  const found = await rows<{ id: string }>(
    tenantManager(),
    `SELECT f.id FROM findings f JOIN providers p ON p.id = f.provider_id WHERE ${where.join(' AND ')}`,
    params.values,
  );
  const known = new Set(found.map((row) => row.id));
  return ids.filter((id) => known.has(id));
}

/** A finding with what its Jira issue shows; undefined once it is gone. */
export async function jiraFinding(id: string): Promise<JiraFinding | undefined> {
  const [found] = await rows<JiraFinding>(
    tenantManager(),
    `SELECT f.check_id, f.check_title, f.severity, f.status, f.status_extended, p.provider, f.region, f.resource_uid, f.compliance,
            COALESCE((SELECT r.name FROM resource_finding_links l JOIN resources r ON r.id = l.resource_id
                       WHERE l.tenant_id = f.tenant_id AND l.finding_id = f.id LIMIT 1), '') AS resource_name
       FROM findings f JOIN providers p ON p.id = f.provider_id
      WHERE f.id = $1 AND p.deleted_at IS NULL AND ${PUBLISHED_FINDINGS_SQL}`,
    [id],
  );
  return found;
}
