import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { Principal } from '../database/tenant-context';
import { OpeningStatement } from '../database/rls-transaction';
import { preparedRows } from '../database/sql';
import { isUuid } from '../database/uuid';
import { Permission, PERMISSIONS } from './permissions';

interface PrincipalRow {
  verified_email: string | null;
  membership_role: 'owner' | 'member';
  role_id: string | null;
  role_ids: string[] | null;
  /** Comma-separated: splitting a string is much cheaper than parsing a PostgreSQL array of hundreds of uuids. */
  visible_provider_ids: string | null;
  unlimited_visibility: boolean | null;
  rules_version: string | null;
  [permission: string]: unknown;
}

/**
 * Loads who the caller is inside their tenant transaction, in one query: the
 * membership (none means the token no longer grants access), the first role
 * by assignment order (inserted_at, then id), its permissions, the
 * providers it may see, and the tenant's row filter rules version. Read per
 * request, so a role change holds at once.
 */
@Injectable()
export class PrincipalLoader {
  async load(manager: EntityManager, userId: string, tenantId: string): Promise<Principal | null> {
    const [row] = await preparedRows<PrincipalRow>(manager, PRINCIPAL_SQL, [userId]);
    return row ? toPrincipal(row, userId, tenantId) : null;
  }

  /**
   * The principal query as a statement to send together with BEGIN; `userId`
   * must be a verified UUID. With an API key, the same query also requires
   * the key to be live, so a revoked or expired key finds no principal.
   */
  openingStatement(userId: string, apiKeyId?: string): OpeningStatement {
    if (!isUuid(userId)) throw new Error('openingStatement needs a user id in UUID form');
    if (apiKeyId === undefined) {
      return { name: PRINCIPAL_STATEMENT, prepare: `PREPARE ${PRINCIPAL_STATEMENT}(uuid) AS ${PRINCIPAL_SQL}`, execute: `EXECUTE ${PRINCIPAL_STATEMENT}('${userId}')` };
    }
    if (!isUuid(apiKeyId)) throw new Error('openingStatement needs an API key id in UUID form');
    return {
      name: PRINCIPAL_BY_KEY_STATEMENT,
      prepare: `PREPARE ${PRINCIPAL_BY_KEY_STATEMENT}(uuid, uuid) AS ${PRINCIPAL_BY_KEY_SQL}`,
      execute: `EXECUTE ${PRINCIPAL_BY_KEY_STATEMENT}('${userId}', '${apiKeyId}')`,
    };
  }

  /** The principal from the opening statement's rows; null when the membership is gone. */
  fromOpeningRows(rows: Record<string, unknown>[] | undefined, userId: string, tenantId: string): Principal | null {
    const row = rows?.[0] as PrincipalRow | undefined;
    return row ? toPrincipal(row, userId, tenantId) : null;
  }
}

const PRINCIPAL_STATEMENT = 'cspm_principal';

const PRINCIPAL_SQL = `SELECT CASE WHEN u.email_verified_at IS NOT NULL THEN u.email END AS verified_email, m.role AS membership_role,
              r.id AS role_id, ${PERMISSIONS.map((p) => `r.${p}`).join(', ')},
              (SELECT array_agg(ur.role_id ORDER BY ur.inserted_at, ur.id) FROM user_roles ur WHERE ur.user_id = m.user_id) AS role_ids,
              CASE WHEN r.unlimited_visibility THEN NULL ELSE
                COALESCE((SELECT string_agg(pgm.provider_id::text, ',')
                            FROM role_provider_groups rpg
                            JOIN provider_group_memberships pgm ON pgm.provider_group_id = rpg.provider_group_id
                           WHERE rpg.role_id = r.id), '')
              END AS visible_provider_ids,
              -- Rides along so that applying row filter rules costs a request no round trip of its own.
              (SELECT v.version::text FROM rls_rule_versions v WHERE v.tenant_id = m.tenant_id) AS rules_version
         FROM memberships m
         JOIN users u ON u.id = m.user_id AND u.is_active
         JOIN tenants t ON t.id = m.tenant_id AND t.deleted_at IS NULL
         LEFT JOIN LATERAL (
           SELECT r.* FROM user_roles ur JOIN roles r ON r.id = ur.role_id
            WHERE ur.user_id = m.user_id
            ORDER BY ur.inserted_at, ur.id
            LIMIT 1
         ) r ON true
        WHERE m.user_id = $1`;

const PRINCIPAL_BY_KEY_STATEMENT = 'cspm_principal_by_key';

const PRINCIPAL_BY_KEY_SQL = `${PRINCIPAL_SQL}
          AND EXISTS (SELECT 1 FROM api_keys k
                       WHERE k.id = $2 AND k.user_id = m.user_id AND NOT k.revoked
                         AND (k.expires_at IS NULL OR k.expires_at > now()))`;

function toPrincipal(row: PrincipalRow, userId: string, tenantId: string): Principal {
  const permissions = new Set<Permission>(row.role_id ? PERMISSIONS.filter((p) => row[p] === true) : []);
  return {
    userId,
    tenantId,
    verifiedEmail: row.verified_email ?? undefined,
    roleId: row.role_id,
    roleIds: row.role_ids ?? [],
    permissions,
    membershipRole: row.membership_role,
    // A provider in several of the role's groups comes once per group; the set keeps one.
    visibleProviderIds: row.role_id && row.unlimited_visibility ? null : new Set(row.visible_provider_ids ? row.visible_provider_ids.split(',') : []),
    rulesVersion: row.rules_version,
  };
}
