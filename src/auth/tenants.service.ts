import { Injectable } from '@nestjs/common';
import { ApiError } from '../common/errors/api-error';
import { limitOffset } from '../common/jsonapi/paging';
import { ParsedQuery } from '../common/jsonapi/query-spec';
import { currentPrincipal, tenantManager } from '../database/tenant-context';
import { TenantDatabase } from '../database/tenant-database';
import { affected, rows } from '../database/sql';
import { guardMemberChanges } from '../rbac/grant-checks';
import { deleteMembershipAndGrants, findMembership } from './memberships.repository';
import { createTenantWithOwner } from './tenant-provisioning';
import { MembershipRow, TenantRow } from './tenant.resource';
import { TokenService } from './token.service';

const SORTS: Record<string, string> = { name: 't.name', inserted_at: 't.inserted_at', updated_at: 't.updated_at' };

@Injectable()
export class TenantsService {
  constructor(
    private readonly database: TenantDatabase,
    private readonly tokens: TokenService,
  ) {}

  /** The tenants the caller belongs to: a named cross-tenant read, keyed by the caller's own user id. */
  async listMine(query: ParsedQuery): Promise<{ rows: TenantRow[]; count: number }> {
    const params: unknown[] = [currentPrincipal().userId];
    const where = ['t.deleted_at IS NULL'];
    for (const filter of query.filters) {
      params.push(filter.operator === 'icontains' ? `%${String(filter.value).replace(/[\\%_]/g, '\\$&')}%` : filter.value);
      where.push(filter.operator === 'icontains' ? `t.name ILIKE $${params.length}` : `t.name = $${params.length}`);
    }
    const order = query.sort.map((s) => `${SORTS[s.field]} ${s.descending ? 'DESC' : 'ASC'}`).concat('t.id ASC').join(', ');
    const { limit, offset } = limitOffset(query.page);
    const base = `FROM tenants t JOIN memberships my ON my.tenant_id = t.id AND my.user_id = $1 WHERE ${where.join(' AND ')}`;
    const [rows, counted] = await Promise.all([
      this.database.adminReadQuery<TenantRow>(
        `SELECT t.id, t.name, t.inserted_at, t.updated_at FROM tenants t WHERE t.id IN (SELECT t.id ${base})
         ORDER BY ${order} ${limit === null ? '' : `LIMIT ${limit} OFFSET ${offset}`}`,
        params,
      ),
      this.database.adminReadQuery<{ count: string }>(`SELECT count(*) AS count ${base}`, params),
    ]);
    return { rows, count: Number(counted[0].count) };
  }

  async getMine(id: string): Promise<TenantRow> {
    const rows = await this.database.adminReadQuery<TenantRow>(
      `SELECT t.id, t.name, t.inserted_at, t.updated_at FROM tenants t
         JOIN memberships my ON my.tenant_id = t.id AND my.user_id = $2
        WHERE t.id = $1 AND t.deleted_at IS NULL`,
      [id, currentPrincipal().userId],
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
  async memberships(tenantId: string, query: ParsedQuery): Promise<{ rows: MembershipRow[]; count: number }> {
    const principal = currentPrincipal();
    if (tenantId !== principal.tenantId) throw ApiError.notFound();
    const params: unknown[] = [];
    const where: string[] = [];
    if (principal.membershipRole !== 'owner') {
      params.push(principal.userId);
      where.push(`m.user_id = $${params.length}`);
    }
    for (const filter of query.filters) {
      params.push(filter.value);
      where.push(filter.operator === 'in' ? `m.${filter.field} = ANY($${params.length})` : `m.${filter.field} = $${params.length}`);
    }
    const condition = where.length ? `WHERE ${where.join(' AND ')}` : '';
    const order = query.sort.map((s) => `m.${s.field} ${s.descending ? 'DESC' : 'ASC'}`).concat('m.id ASC').join(', ');
    const { limit, offset } = limitOffset(query.page);
    const manager = tenantManager();
    const rows: MembershipRow[] = await manager.query(
      `SELECT m.id, m.tenant_id, m.user_id, m.role, m.date_joined FROM memberships m ${condition}
        ORDER BY ${order} ${limit === null ? '' : `LIMIT ${limit} OFFSET ${offset}`}`,
      params,
    );
    const counted: Array<{ count: string }> = await manager.query(`SELECT count(*) AS count FROM memberships m ${condition}`, params);
    return { rows, count: Number(counted[0].count) };
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
