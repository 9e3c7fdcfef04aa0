import { tenantScope, tenantManager } from '../database/tenant-context';
import { affected, rows } from '../database/sql';
import { newId } from '../database/uuid';

/**
 * A many-to-many link table (its own rows, with tenant_id under RLS) seen
 * from one side: `owner` is the column of the resource whose relationship
 * changes, `target` the column of the related resources.
 */
export interface LinkTable {
  table: string;
  owner: string;
  target: string;
  /** The order links were made in; tables without inserted_at rely on their time-ordered ids. */
  order?: string;
}

export const ROLE_PROVIDER_GROUPS: LinkTable = { table: 'role_provider_groups', owner: 'role_id', target: 'provider_group_id' };
export const PROVIDER_GROUP_ROLES: LinkTable = { table: 'role_provider_groups', owner: 'provider_group_id', target: 'role_id' };
export const PROVIDER_GROUP_PROVIDERS: LinkTable = { table: 'provider_group_memberships', owner: 'provider_group_id', target: 'provider_id' };
export const USER_ROLES: LinkTable = { table: 'user_roles', owner: 'user_id', target: 'role_id' };
export const ROLE_USERS: LinkTable = { table: 'user_roles', owner: 'role_id', target: 'user_id' };
export const INVITATION_ROLES: LinkTable = { table: 'invitation_roles', owner: 'invitation_id', target: 'role_id', order: 'id' };

export async function linkedTargets(link: LinkTable, ownerId: string): Promise<string[]> {
  const found = await rows<{ target: string }>(
    tenantManager(),
    `SELECT ${link.target} AS target FROM ${link.table} WHERE ${link.owner} = $1 ORDER BY ${link.order ?? 'inserted_at, id'}`,
    [ownerId],
  );
  return found.map((row) => row.target);
}

/**
 * Links the targets not linked yet, in the order given. The order is kept in
 * `inserted_at` (and the time-ordered ids): for user_roles it decides which
 * role is a user's first.
 */
export async function addLinks(link: LinkTable, ownerId: string, targetIds: readonly string[]): Promise<void> {
  const targets = [...new Set(targetIds)];
  if (targets.length === 0) return;
  await tenantManager().query(
    `INSERT INTO ${link.table} (id, tenant_id, ${link.owner}, ${link.target})
     SELECT link.id, $1, $2, link.target FROM unnest($3::uuid[], $4::uuid[]) WITH ORDINALITY AS link (id, target, position)
      ORDER BY link.position
     ON CONFLICT DO NOTHING`,
    [tenantScope().tenantId, ownerId, targets.map(() => newId()), targets],
  );
}

/** Makes the owner's links exactly `targetIds`; links that stay keep their original order. */
export async function replaceLinks(link: LinkTable, ownerId: string, targetIds: readonly string[]): Promise<void> {
  await tenantManager().query(
    `DELETE FROM ${link.table} WHERE ${link.owner} = $1 AND NOT (${link.target} = ANY($2::uuid[]))`,
    [ownerId, [...new Set(targetIds)]],
  );
  await addLinks(link, ownerId, targetIds);
}

/** Unlinks the given targets, or every target when `targetIds` is null; answers how many links went. */
export async function removeLinks(link: LinkTable, ownerId: string, targetIds: readonly string[] | null): Promise<number> {
  if (targetIds === null) return affected(tenantManager(), `DELETE FROM ${link.table} WHERE ${link.owner} = $1`, [ownerId]);
  return affected(tenantManager(), `DELETE FROM ${link.table} WHERE ${link.owner} = $1 AND ${link.target} = ANY($2::uuid[])`, [ownerId, [...targetIds]]);
}
