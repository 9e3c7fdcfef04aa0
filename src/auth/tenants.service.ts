import { Injectable } from '@nestjs/common';
import { ApiError } from '../common/errors/api-error';
import { limitOffset } from '../common/jsonapi/paging';
import { ParsedQuery, QuerySpec } from '../common/jsonapi/query-spec';
import { currentPrincipal, tenantManager } from '../database/tenant-context';
import { TenantDatabase } from '../database/tenant-database';
import { affected, rows } from '../database/sql';
import { containsPattern, filterConditions, ListColumns, orderBy, SqlParams } from '../rbac/list-query-sql';
import { guardMemberChanges } from '../rbac/grant-checks';
import { deleteMembershipAndGrants, findMembership, listTenantMemberships } from './memberships.repository';
import { createTenantWithOwner } from './tenant-provisioning';
import { MembershipRow, TenantRow } from './tenant.resource';
import { TokenService } from './token.service';

const TENANT_LIST_COLUMNS: ListColumns = {
  filters: {
    name: 't.name',
    inserted_at: 't.inserted_at',
    updated_at: 't.updated_at',
    search: (filter, params) => `t.name ILIKE ${params.add(containsPattern(String(filter.value)))}`,
  },
  sorts: { name: 't.name', inserted_at: 't.inserted_at', updated_at: 't.updated_at' },
  tieBreaker: 't.id',
};

/**
 * A tenant's `memberships` relationship (the caller's id and the current
 * tenant's id as the given parameters): every membership of the current
 * tenant, only the caller's own in the others.
 */
function tenantMembershipIds(callerParam: string, currentTenantParam: string): string {
  return `ARRAY(SELECT m.id FROM memberships m WHERE m.tenant_id = t.id AND (t.id = ${currentTenantParam}::uuid OR m.user_id = ${callerParam})
                 ORDER BY m.date_joined, m.id) AS membership_ids`;
}

@Injectable()
export class TenantsService {
  constructor(
    private readonly database: TenantDatabase,
    private readonly tokens: TokenService,
  ) {}

  /** The tenants the caller belongs to: a named cross-tenant read, keyed by the caller's own user id. */
  async listMine(query: ParsedQuery, spec: QuerySpec): Promise<{ rows: TenantRow[]; count: number }> {
    const params = new SqlParams();
    const me = params.add(currentPrincipal().userId);
    const where = ['t.deleted_at IS NULL', ...filterConditions(query, spec, TENANT_LIST_COLUMNS, params)];
    const order = orderBy(query.sort, TENANT_LIST_COLUMNS);
    const { limit, offset } = limitOffset(query.page);
    const base = `FROM tenants t JOIN memberships my ON my.tenant_id = t.id AND my.user_id = ${me} WHERE ${where.join(' AND ')}`;
    const [rows, counted] = await Promise.all([
      this.database.adminReadQuery<TenantRow>(
        `SELECT t.id, t.name, t.inserted_at, t.updated_at, ${tenantMembershipIds('$1', `$${params.values.length + 1}`)} FROM tenants t WHERE t.id IN (SELECT t.id ${base})
         ORDER BY ${order} ${limit === null ? '' : `LIMIT ${limit} OFFSET ${offset}`}`,
        [...params.values, currentPrincipal().tenantId],
      ),
      this.database.adminReadQuery<{ count: string }>(`SELECT count(*) AS count ${base}`, params.values),
    ]);
    return { rows, count: Number(counted[0].count) };
  }

  async getMine(id: string): Promise<TenantRow> {
    const rows = await this.database.adminReadQuery<TenantRow>(
      `SELECT t.id, t.name, t.inserted_at, t.updated_at, ${tenantMembershipIds('$1', '$2')} FROM tenants t
         JOIN memberships my ON my.tenant_id = t.id AND my.user_id = $1
        WHERE t.id = $3 AND t.deleted_at IS NULL`,
      [currentPrincipal().userId, currentPrincipal().tenantId, id],
    );
    if (!rows[0]) throw ApiError.notFound();
    return rows[0];
  }

  async create(name: string): Promise<TenantRow> {
    const userId = currentPrincipal().userId;
    const tenantId = await this.database.adminTransaction((admin) => createTenantWithOwner(admin, userId, name));
    return this.getMine(tenantId);
  }

  /** Changes apply only to the tenant of the token; any other id is 404 through RLS. */
  async update(id: string, name: string): Promise<TenantRow> {
    const updated = await rows<TenantRow>(
      tenantManager(),
      `UPDATE tenants SET name = $2, updated_at = now() WHERE id = $1 AND deleted_at IS NULL
       RETURNING id, name, inserted_at, updated_at`,
      [id, name],
    );
    if (!updated[0]) throw ApiError.notFound();
    return updated[0];
  }

  async softDelete(id: string): Promise<void> {
    const deleted = await affected(tenantManager(), `UPDATE tenants SET deleted_at = now() WHERE id = $1 AND deleted_at IS NULL`, [id]);
    if (deleted === 0) throw ApiError.notFound();
  }

  /** Owners see every membership of the tenant; members see their own. */
  async memberships(tenantId: string, query: ParsedQuery, spec: QuerySpec): Promise<{ rows: MembershipRow[]; count: number }> {
    const principal = currentPrincipal();
    if (tenantId !== principal.tenantId) throw ApiError.notFound();
    return listTenantMemberships(query, spec, principal.membershipRole === 'owner' ? null : principal.userId);
  }

  /**
   * Removes a member: their roles here go with the membership, and their
   * refresh tokens are revoked in the same transaction, so neither a refresh
   * nor an access token (the principal needs the membership) works afterwards.
   * Only an owner may remove an owner, and the tenant keeps an owner with
   * every permission (grant-policy.ts).
   */
  async removeMembership(tenantId: string, membershipId: string): Promise<void> {
    const principal = currentPrincipal();
    if (tenantId !== principal.tenantId) throw ApiError.notFound();
    const membership = await findMembership(membershipId);
    if (!membership) throw ApiError.notFound();
    await guardMemberChanges(() => deleteMembershipAndGrants(membership));
    await this.tokens.revokeUserSessions(membership.user_id, tenantId);
  }
}
