import { ParsedQuery, QuerySpec } from '../common/jsonapi/query-spec';
import { tenantManager } from '../database/tenant-context';
import { affected, rows } from '../database/sql';
import { filterConditions, inTenantTransaction, orderBy, pagedList, RunSql, SqlParams } from '../rbac/list-query-sql';
import { MEMBERSHIP_LIST_COLUMNS as LIST_COLUMNS } from './membership-query';
import { MembershipRow } from './tenant.resource';

export const MEMBERSHIP_COLUMNS = 'm.id, m.tenant_id, m.user_id, m.role, m.date_joined';

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

/** The current tenant's memberships (RLS keeps the list to it); `onlyUserId` narrows it to one user's own. */
export async function listTenantMemberships(query: ParsedQuery, spec: QuerySpec, onlyUserId: string | null): Promise<{ rows: MembershipRow[]; count: number }> {
  const params = new SqlParams();
  const where = [...(onlyUserId ? [`m.user_id = ${params.add(onlyUserId)}`] : []), ...filterConditions(query, spec, LIST_COLUMNS, params)];
  return pagedList<MembershipRow>({ from: 'memberships m', alias: 'm', columns: MEMBERSHIP_COLUMNS, where, order: orderBy(query.sort, LIST_COLUMNS), page: query.page, params });
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
