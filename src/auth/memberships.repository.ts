import { ParsedQuery, QuerySpec } from '../common/jsonapi/query-spec';
import { tenantManager } from '../database/tenant-context';
import { affected, rows } from '../database/sql';
import { filterConditions, inTenantTransaction, ListColumns, orderBy, pagedList, RunSql, SqlParams } from '../rbac/list-query-sql';
import { MembershipRow } from './tenant.resource';

const MEMBERSHIP_COLUMNS = 'm.id, m.tenant_id, m.user_id, m.role, m.date_joined';

const LIST_COLUMNS: ListColumns = {
  filters: { role: 'm.role', tenant: 'm.tenant_id', date_joined: 'm.date_joined' },
  sorts: { tenant: 'm.tenant_id', role: 'm.role', date_joined: 'm.date_joined' },
  tieBreaker: 'm.id',
};

/**
 * A user's memberships in live tenants. Run in the tenant transaction it
 * shows the current tenant's only; the user's own list is read across tenants
 * by the caller (see UsersService.memberships).
 */
export async function listUserMemberships(
  userId: string,
  query: ParsedQuery,
  spec: QuerySpec,
  run: RunSql = inTenantTransaction,
): Promise<{ rows: MembershipRow[]; count: number }> {
  const params = new SqlParams();
  const where = [
    `m.user_id = ${params.add(userId)}`,
    'EXISTS (SELECT 1 FROM tenants t WHERE t.id = m.tenant_id AND t.deleted_at IS NULL)',
    ...filterConditions(query, spec, LIST_COLUMNS, params),
  ];
  return pagedList<MembershipRow>(
    { from: 'memberships m', alias: 'm', columns: MEMBERSHIP_COLUMNS, where, order: orderBy(query.sort, LIST_COLUMNS), page: query.page, params },
    run,
  );
}

/** The current tenant's memberships of these users, e.g. to include them beside the users. */
export async function membershipsOfUsers(userIds: readonly string[]): Promise<MembershipRow[]> {
  if (userIds.length === 0) return [];
  return rows<MembershipRow>(tenantManager(), `SELECT ${MEMBERSHIP_COLUMNS} FROM memberships m WHERE m.user_id = ANY($1::uuid[]) ORDER BY m.date_joined, m.id`, [[...userIds]]);
}

export async function findMembership(id: string): Promise<MembershipRow | undefined> {
  const found = await rows<MembershipRow>(tenantManager(), `SELECT ${MEMBERSHIP_COLUMNS} FROM memberships m WHERE m.id = $1`, [id]);
  return found[0];
}

/** The membership and the user's roles in this tenant: a former member keeps no grants. */
export async function deleteMembershipAndGrants(membership: MembershipRow): Promise<number> {
  await tenantManager().query(`DELETE FROM user_roles WHERE user_id = $1`, [membership.user_id]);
  return affected(tenantManager(), `DELETE FROM memberships WHERE id = $1`, [membership.id]);
}
