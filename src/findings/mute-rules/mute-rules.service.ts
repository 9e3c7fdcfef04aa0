import { Inject, Injectable } from '@nestjs/common';
import { ApiError } from '../../common/errors/api-error';
import { limitOffset } from '../../common/jsonapi/paging';
import { ParsedQuery } from '../../common/jsonapi/query-spec';
import { affected, rows } from '../../database/sql';
import { currentPrincipal, tenantManager } from '../../database/tenant-context';
import { newId } from '../../database/uuid';
import { selectFindings } from '../finding-selection';
import { aggregateScan, lockScanAggregations } from '../overviews/scan-aggregation';
import { addColumnFilter, containsPattern } from '../query/column-filters';
import { ROW_FILTER_SOURCE, RowFilterSource } from '../query/row-filter-source';
import { SqlConditions } from '../query/sql-conditions';
import { latestCompletedScans } from '../scans/scan-ranges';
import { muteFindingsByUid } from './finding-muting';
import { MuteRuleCreateAttributes, MuteRuleUpdateAttributes } from './mute-rule.dto';
import { MUTE_RULE_COLUMNS_SQL, MuteRuleRow } from './mute-rule.resource';

const COLUMNS: Record<string, string> = {
  id: 'm.id', name: 'm.name', reason: 'm.reason', enabled: 'm.enabled', created_by: 'm.created_by',
  inserted_at: 'm.inserted_at', updated_at: 'm.updated_at',
};

/**
 * Mute rules name finding uids. Creating one mutes the stored findings with
 * those uids at once; an enabled rule mutes them in every later scan too.
 * Both only in the providers its creator could see when making it (stored
 * with the rule as provider_ids; null for a creator who sees them all): a
 * uid repeats across accounts, and a limited user must not mute findings of
 * a provider hidden from them.
 * Disabling or deleting a rule affects later scans only: what was muted stays
 * muted, as recorded.
 */
@Injectable()
export class MuteRulesService {
  constructor(@Inject(ROW_FILTER_SOURCE) private readonly rowFilter: RowFilterSource) {}

  async list(query: ParsedQuery): Promise<{ rows: MuteRuleRow[]; count: number }> {
    const conditions = new SqlConditions();
    for (const filter of query.filters) {
      if (filter.field === 'search') {
        const pattern = conditions.param(containsPattern(String(filter.value)));
        conditions.add(`(m.name ILIKE ${pattern} OR m.reason ILIKE ${pattern})`);
      } else {
        addColumnFilter(conditions, COLUMNS[filter.field], filter);
      }
    }
    const order = query.sort.map((s) => `${COLUMNS[s.field]} ${s.descending ? 'DESC' : 'ASC'}`).concat('m.id').join(', ');
    const { limit, offset } = limitOffset(query.page);
    const manager = tenantManager();
    const [found, counted] = [
      await rows<MuteRuleRow>(
        manager,
        `SELECT ${MUTE_RULE_COLUMNS_SQL} FROM mute_rules m ${conditions.where()} ORDER BY ${order} ${limit === null ? '' : `LIMIT ${limit} OFFSET ${offset}`}`,
        conditions.params,
      ),
      await rows<{ count: number }>(manager, `SELECT count(*)::int AS count FROM mute_rules m ${conditions.where()}`, conditions.params),
    ];
    return { rows: found, count: counted[0].count };
  }

  async get(id: string): Promise<MuteRuleRow> {
    const [found] = await rows<MuteRuleRow>(tenantManager(), `SELECT ${MUTE_RULE_COLUMNS_SQL} FROM mute_rules m WHERE m.id = $1`, [id]);
    if (!found) throw ApiError.notFound('No mute rule with this id.');
    return found;
  }

  async create(attributes: MuteRuleCreateAttributes): Promise<MuteRuleRow> {
    const manager = tenantManager();
    const uids = await this.uidsOfFindings(attributes.finding_ids);
    const principal = currentPrincipal();
    const scope = principal.visibleProviderIds === null ? null : [...principal.visibleProviderIds];
    const id = newId();
    await rows(
      manager,
      `INSERT INTO mute_rules (id, tenant_id, name, reason, finding_uids, created_by, provider_ids)
       VALUES ($1, NULLIF(current_setting('api.tenant_id', true), '')::uuid, $2, $3, $4, $5, $6::uuid[])`,
      [id, attributes.name, attributes.reason, uids, principal.userId, scope],
    );
    const touched = await muteFindingsByUid(manager, uids, attributes.reason, scope);
    await this.refreshSummaries(touched);
    return this.get(id);
  }

  async update(id: string, attributes: MuteRuleUpdateAttributes): Promise<MuteRuleRow> {
    const updated = await affected(
      tenantManager(),
      `UPDATE mute_rules SET name = COALESCE($2, name), reason = COALESCE($3, reason), enabled = COALESCE($4, enabled), updated_at = now()
        WHERE id = $1`,
      [id, attributes.name ?? null, attributes.reason ?? null, attributes.enabled ?? null],
    );
    if (updated === 0) throw ApiError.notFound('No mute rule with this id.');
    return this.get(id);
  }

  async remove(id: string): Promise<void> {
    const deleted = await affected(tenantManager(), `DELETE FROM mute_rules WHERE id = $1`, [id]);
    if (deleted === 0) throw ApiError.notFound('No mute rule with this id.');
  }

  /** The uids of the given findings, which must all be findings the caller can see. */
  private async uidsOfFindings(ids: readonly string[]): Promise<string[]> {
    const manager = tenantManager();
    const unique = [...new Set(ids.map((id) => id.toLowerCase()))];
    const selection = await selectFindings(manager, [], 'all', this.rowFilter);
    selection.conditions.add(`f.id = ANY(${selection.conditions.param(unique)}::uuid[])`);
    const found = await rows<{ id: string; uid: string }>(manager, `SELECT f.id, f.uid FROM findings f ${selection.conditions.where()}`, selection.conditions.params);
    const missing = unique.filter((id) => !found.some((f) => f.id === id));
    if (missing.length) {
      throw ApiError.badRequest('invalid', `No finding with id ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', …' : ''}.`, {
        pointer: '/data/attributes/finding_ids',
      });
    }
    return [...new Set(found.map((f) => f.uid))];
  }

  /**
   * Overviews read the latest scans' summaries: those are rebuilt now. Older
   * scans touched are marked not aggregated, so counts and metadata read
   * their rows until the overview job aggregates them again.
   */
  private async refreshSummaries(scanIds: readonly string[]): Promise<void> {
    if (scanIds.length === 0) return;
    const manager = tenantManager();
    await lockScanAggregations(manager, scanIds);
    await affected(manager, `UPDATE scan_ingestions SET aggregated_at = NULL WHERE scan_id = ANY($1::uuid[])`, [scanIds]);
    const latest = await latestCompletedScans(manager, () => `ARRAY(SELECT p.id FROM providers p WHERE p.deleted_at IS NULL)`);
    for (const scan of latest) if (scanIds.includes(scan.scanId)) await aggregateScan(manager, scan.scanId);
  }
}
