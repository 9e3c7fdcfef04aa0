import type { EntityManager } from 'typeorm';
import { preparedRows, rows } from '../database/sql';
import type { CompiledClause } from './clause/compiled-clause';
import type { CombinableRule, FilterType } from './clause/rule-combiner';

/** A tenant's rules as the combiner needs them, and the version they were read at. */
export interface RuleSet {
  version: string;
  rules: CombinableRule[];
}

/** The version of a tenant that never had a rule: no row in rls_rule_versions. */
export const NO_RULES_VERSION = '0';

interface RuleSetRow {
  version: string;
  rules: Array<{ id: string; filter_type: FilterType; group_key: string | null; compiled: CompiledClause; role_ids: string[]; tables: string[] }>;
}

// Hot: read by every request that applies rules, hence a prepared statement.
const VERSION_SQL = `SELECT version::text AS version FROM rls_rule_versions WHERE tenant_id = $1`;

// One statement, so the version and the rules come from the same snapshot:
// the rules are never newer or older than the version they are cached under.
const RULE_SET_SQL = `
  SELECT COALESCE((SELECT version::text FROM rls_rule_versions WHERE tenant_id = $1), '${NO_RULES_VERSION}') AS version,
         COALESCE(json_agg(json_build_object(
           'id', r.id,
           'filter_type', r.filter_type,
           'group_key', r.group_key,
           'compiled', r.compiled,
           'role_ids', ARRAY(SELECT rr.role_id FROM rls_rule_roles rr WHERE rr.rule_id = r.id),
           'tables', ARRAY(SELECT rt.table_name FROM rls_rule_tables rt WHERE rt.rule_id = r.id)
         )), '[]') AS rules
    FROM rls_rules r
   WHERE r.tenant_id = $1`;

export async function readRulesVersion(manager: EntityManager, tenantId: string): Promise<string> {
  const [row] = await preparedRows<{ version: string }>(manager, VERSION_SQL, [tenantId]);
  return row?.version ?? NO_RULES_VERSION;
}

export async function loadRuleSet(manager: EntityManager, tenantId: string): Promise<RuleSet> {
  const [row] = await rows<RuleSetRow>(manager, RULE_SET_SQL, [tenantId]);
  return {
    version: row.version,
    rules: row.rules.map((rule) => ({
      id: rule.id,
      filterType: rule.filter_type,
      groupKey: rule.group_key,
      roleIds: rule.role_ids,
      tables: rule.tables,
      compiled: rule.compiled,
    })),
  };
}
