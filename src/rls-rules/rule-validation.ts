import { ApiError } from '../common/errors/api-error';
import { currentPrincipal, tenantManager } from '../database/tenant-context';
import { probeClause } from './clause/clause-probe';
import { compileForDatasets } from './clause/compile-for-datasets';
import { type Dataset, getDataset, listDatasets } from './clause/dataset-catalog';
import type { RlsRuleAttributes } from './rls-rule.dto';
import { existingRoleIds, type RuleRecord } from './rls-rules.repository';
import { templateValues } from './template-values';

export interface CheckedRule {
  record: RuleRecord;
  roleIds: string[];
  tables: string[];
}

/**
 * A rule as it is about to be stored, checked as a whole, cheapest checks first:
 *   - a dataset that does not exist: 422;
 *   - a Regular rule without roles: 400 (`required`, pointing at the roles
 *     relationship), since the body alone shows it: such a rule would apply to nobody;
 *   - a clause the compiler refuses: 400 `invalid_clause`;
 *   - a role that is not one of the tenant's: 422;
 *   - a clause PostgreSQL cannot evaluate on one of the datasets: 400 `invalid_clause`.
 */
export async function checkedRule(id: string, attributes: RlsRuleAttributes, roleIds: string[], tables: string[]): Promise<CheckedRule> {
  const datasets = knownDatasets(tables);
  if (attributes.filter_type === 'Regular' && roleIds.length === 0) {
    throw ApiError.badRequest('required', 'A Regular rule needs at least one role: it applies to the users holding one of them.', {
      pointer: '/data/relationships/roles',
    });
  }
  const compiled = await compileForDatasets(attributes.clause, tables);
  await assertRolesExist(roleIds);
  const principal = currentPrincipal();
  for (const dataset of datasets) await probeClause(tenantManager(), compiled, dataset, templateValues(principal));
  return {
    record: {
      id,
      tenantId: principal.tenantId,
      name: attributes.name,
      description: attributes.description ?? null,
      filterType: attributes.filter_type,
      groupKey: attributes.group_key ?? null,
      clause: attributes.clause,
      compiled,
      actorId: principal.userId,
    },
    roleIds,
    tables,
  };
}

function knownDatasets(tables: readonly string[]): Dataset[] {
  if (tables.length === 0) throw ApiError.badRequest('required', 'A rule needs at least one table.', { pointer: '/data/relationships/tables' });
  return tables.map((table) => {
    const dataset = getDataset(table);
    if (!dataset) {
      throw ApiError.unprocessable('unknown_table', `Unknown table '${table}'. Known: ${listDatasets().map((d) => d.name).join(', ')}.`, {
        pointer: '/data/relationships/tables',
      });
    }
    return dataset;
  });
}

async function assertRolesExist(roleIds: readonly string[]): Promise<void> {
  const existing = await existingRoleIds(roleIds);
  const missing = roleIds.find((roleId) => !existing.has(roleId));
  if (missing) {
    throw ApiError.unprocessable('unknown_role', `No role with id ${missing} in this tenant.`, { pointer: '/data/relationships/roles' });
  }
}
