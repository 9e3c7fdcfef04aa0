import { tenantManager } from '../database/tenant-context';
import { affected, rows } from '../database/sql';
import type { CompiledClause } from './clause/compiled-clause';
import type { FilterType } from './clause/rule-combiner';
import type { RlsRuleRow } from './rls-rule.resource';
import type { WhereClause } from './rls-rule-list.query';

// Every query here runs in the request's tenant transaction, so RLS confines it to the caller's tenant.

const RULE_COLUMNS = `r.id, r.name, r.description, r.filter_type, r.group_key, r.clause,
       r.created_by, r.changed_by, r.inserted_at, r.updated_at,
       ARRAY(SELECT rr.role_id FROM rls_rule_roles rr WHERE rr.rule_id = r.id ORDER BY rr.role_id) AS role_ids,
       ARRAY(SELECT rt.table_name FROM rls_rule_tables rt WHERE rt.rule_id = r.id ORDER BY rt.table_name) AS tables`;

export interface RuleRecord {
  id: string;
  tenantId: string;
  name: string;
  description: string | null;
  filterType: FilterType;
  groupKey: string | null;
  clause: string;
  compiled: CompiledClause;
  /** The user making the change: created_by on insert, changed_by always. */
  actorId: string;
}

export async function listRules(where: WhereClause, orderBy: string, limit: number | null, offset: number): Promise<RlsRuleRow[]> {
  const n = where.params.length;
  return rows<RlsRuleRow>(
    tenantManager(),
    `SELECT ${RULE_COLUMNS} FROM rls_rules r WHERE ${where.sql} ORDER BY ${orderBy} LIMIT $${n + 1} OFFSET $${n + 2}`,
    [...where.params, limit, offset],
  );
}

export async function countRules(where: WhereClause): Promise<number> {
  const [row] = await rows<{ count: number }>(tenantManager(), `SELECT count(*)::int AS count FROM rls_rules r WHERE ${where.sql}`, where.params);
  return row.count;
}

export async function findRule(id: string, lock = false): Promise<RlsRuleRow | undefined> {
  const [row] = await rows<RlsRuleRow>(
    tenantManager(),
    `SELECT ${RULE_COLUMNS} FROM rls_rules r WHERE r.id = $1${lock ? ' FOR UPDATE OF r' : ''}`,
    [id],
  );
  return row;
}

export async function findRules(ids: readonly string[]): Promise<RlsRuleRow[]> {
  return rows<RlsRuleRow>(tenantManager(), `SELECT ${RULE_COLUMNS} FROM rls_rules r WHERE r.id = ANY($1::uuid[]) ORDER BY r.id`, [ids]);
}

export async function insertRule(rule: RuleRecord): Promise<void> {
  await tenantManager().query(
    `INSERT INTO rls_rules (id, tenant_id, name, description, filter_type, group_key, clause, compiled, created_by, changed_by)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)`,
    [rule.id, rule.tenantId, rule.name, rule.description, rule.filterType, rule.groupKey, rule.clause, JSON.stringify(rule.compiled), rule.actorId],
  );
}

export async function updateRule(rule: RuleRecord): Promise<void> {
  await tenantManager().query(
    `UPDATE rls_rules
        SET name = $2, description = $3, filter_type = $4, group_key = $5, clause = $6, compiled = $7,
            changed_by = $8, updated_at = now()
      WHERE id = $1`,
    [rule.id, rule.name, rule.description, rule.filterType, rule.groupKey, rule.clause, JSON.stringify(rule.compiled), rule.actorId],
  );
}

/** Links a rule to its roles and datasets, in one statement. */
export async function insertRuleLinks(tenantId: string, ruleId: string, roleIds: readonly string[], tables: readonly string[]): Promise<void> {
  await tenantManager().query(
    `WITH role_links AS (
       INSERT INTO rls_rule_roles (tenant_id, rule_id, role_id) SELECT $1, $2, unnest($3::uuid[])
     )
     INSERT INTO rls_rule_tables (tenant_id, rule_id, table_name) SELECT $1, $2, unnest($4::text[])`,
    [tenantId, ruleId, roleIds, tables],
  );
}

export async function deleteRuleLinks(ruleId: string): Promise<void> {
  await tenantManager().query(
    `WITH role_links AS (DELETE FROM rls_rule_roles WHERE rule_id = $1) DELETE FROM rls_rule_tables WHERE rule_id = $1`,
    [ruleId],
  );
}

export async function deleteRule(id: string): Promise<boolean> {
  return (await affected(tenantManager(), `DELETE FROM rls_rules WHERE id = $1`, [id])) > 0;
}

/** Locks the given rules and answers which of them exist, so a bulk delete is decided before anything is deleted. */
export async function lockExistingRules(ids: readonly string[]): Promise<Set<string>> {
  const found = await rows<{ id: string }>(tenantManager(), `SELECT id FROM rls_rules WHERE id = ANY($1::uuid[]) FOR UPDATE`, [ids]);
  return new Set(found.map((row) => row.id));
}

export async function deleteRules(ids: readonly string[]): Promise<void> {
  await tenantManager().query(`DELETE FROM rls_rules WHERE id = ANY($1::uuid[])`, [ids]);
}

export async function existingRoleIds(ids: readonly string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const found = await rows<{ id: string }>(tenantManager(), `SELECT id FROM roles WHERE id = ANY($1::uuid[])`, [ids]);
  return new Set(found.map((row) => row.id));
}
