import { Injectable, OnModuleInit } from '@nestjs/common';
import { IncludeGraph } from '../common/jsonapi/include-graph';
import { currentPrincipal, tenantManager } from '../database/tenant-context';
import { TenantDatabase } from '../database/tenant-database';
import { MEMBERSHIP_COLUMNS } from './memberships.repository';
import { MembershipRow, membershipResource, TenantRow, tenantResource } from './tenant.resource';
import { UserRow, userResource } from './user.resource';
import { USER_COLUMNS } from './users.repository';

/**
 * Users, memberships and tenants as included resources (a mute rule's `created_by`, 
 * `/users/me?include=memberships.tenant` for the tenant switcher). Users are
 * the current tenant's (RLS), and another user than the caller shows only to
 * a holder of manage_users, as on `/users/{id}`. Both are named cross-tenant reads keyed by the caller:
 * a membership shows when it is the caller's own or belongs to the current
 * tenant, a tenant when the caller is a member of it; deleted tenants never.
 */
@Injectable()
export class AuthIncludeSources implements OnModuleInit {
  constructor(
    private readonly graph: IncludeGraph,
    private readonly database: TenantDatabase,
  ) {}

  onModuleInit(): void {
    this.graph.register({ definition: userResource, load: (ids) => this.users(ids) });
    this.graph.register({ definition: membershipResource, load: (ids) => this.memberships(ids) });
    // Included in its short form (name, dates): a tenant's own memberships are read at /tenants/{id}/memberships.
    this.graph.register({ definition: tenantResource, load: (ids) => this.tenants(ids) });
  }

  private users(ids: readonly string[]): Promise<UserRow[]> {
    const principal = currentPrincipal();
    const readable = principal.permissions.has('manage_users') ? [...ids] : ids.filter((id) => id === principal.userId);
    if (readable.length === 0) return Promise.resolve([]);
    return tenantManager().query(`SELECT ${USER_COLUMNS} FROM users u WHERE u.id = ANY($1::uuid[]) ORDER BY u.date_joined, u.id`, [readable]);
  }

  private memberships(ids: readonly string[]): Promise<MembershipRow[]> {
    const { userId, tenantId } = currentPrincipal();
    return this.database.adminReadQuery<MembershipRow>(
      `SELECT ${MEMBERSHIP_COLUMNS} FROM memberships m JOIN tenants t ON t.id = m.tenant_id AND t.deleted_at IS NULL
        WHERE m.id = ANY($1::uuid[]) AND (m.user_id = $2 OR m.tenant_id = $3) ORDER BY m.date_joined, m.id`,
      [[...ids], userId, tenantId],
    );
  }

  private tenants(ids: readonly string[]): Promise<TenantRow[]> {
    return this.database.adminReadQuery<TenantRow>(
      `SELECT t.id, t.name, t.inserted_at, t.updated_at FROM tenants t
        WHERE t.id = ANY($1::uuid[]) AND t.deleted_at IS NULL
          AND EXISTS (SELECT 1 FROM memberships m WHERE m.tenant_id = t.id AND m.user_id = $2)`,
      [[...ids], currentPrincipal().userId],
    );
  }
}
