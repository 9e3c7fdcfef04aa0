import { tenantManager } from '../database/tenant-context';
import { rows } from '../database/sql';
import { escapeLike } from './rls-rule-list.query';
import type { RoleChoiceRow } from './rls-rule.resource';

export interface RoleSearch {
  name?: string;
  nameContains?: string;
}

function roleSearchWhere(search: RoleSearch): { sql: string; params: unknown[] } {
  const conditions: string[] = [];
  const params: unknown[] = [];
  if (search.name !== undefined) {
    params.push(search.name);
    conditions.push(`name = $${params.length}`);
  }
  if (search.nameContains !== undefined) {
    params.push(escapeLike(search.nameContains));
    conditions.push(`name ILIKE '%' || $${params.length} || '%'`);
  }
  return { sql: conditions.length > 0 ? conditions.join(' AND ') : 'true', params };
}

/** The tenant's roles a rule can name, by name. */
export async function searchRoles(search: RoleSearch, limit: number | null, offset: number): Promise<{ roles: RoleChoiceRow[]; count: number }> {
  const where = roleSearchWhere(search);
  const n = where.params.length;
  const manager = tenantManager();
  const roles = await rows<RoleChoiceRow>(
    manager,
    `SELECT id, name FROM roles WHERE ${where.sql} ORDER BY name, id LIMIT $${n + 1} OFFSET $${n + 2}`,
    [...where.params, limit, offset],
  );
  const [{ count }] = await rows<{ count: number }>(manager, `SELECT count(*)::int AS count FROM roles WHERE ${where.sql}`, where.params);
  return { roles, count };
}

/** The roles a member of the current tenant holds; undefined when the user is not a member. */
export async function memberRoleIds(userId: string): Promise<string[] | undefined> {
  const [row] = await rows<{ role_ids: string[] }>(
    tenantManager(),
    `SELECT ARRAY(SELECT ur.role_id FROM user_roles ur WHERE ur.user_id = m.user_id ORDER BY ur.inserted_at, ur.id) AS role_ids
       FROM memberships m WHERE m.user_id = $1`,
    [userId],
  );
  return row?.role_ids;
}
