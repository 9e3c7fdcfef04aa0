import { currentPrincipal } from '../database/tenant-context';
import { beyondHolder, grantNotHeld, judgeMemberChanges, NOTHING } from './grant-policy';
import { lockTenantGrants, memberGrants, roleGrants } from './grants.repository';
import { Permission, PERMISSIONS } from './permissions';
import { PointerOf } from './relationship-ids';

/**
 * The grant rules of grant-policy.ts applied to the current request. Each
 * runs inside the request's transaction; they cost queries only on requests
 * that change roles, assignments, invitations or memberships.
 */

/** Refuses a role create or edit that turns on a permission the caller lacks (`before`: the role's flags as they were). */
export function requireFlagsHeld(flags: Partial<Record<Permission, boolean>>, before: Partial<Record<Permission, boolean>> = {}): void {
  const principal = currentPrincipal();
  const missing = PERMISSIONS.filter((p) => flags[p] === true && before[p] !== true && !principal.permissions.has(p));
  const refused = grantNotHeld({ permissions: missing, unseenProviders: false }, { pointer: `/data/attributes/${missing[0]}` });
  if (refused) throw refused;
}

/**
 * Refuses assigning (to a user or an invitation) a role that grants more than
 * the caller holds. Roles in `alreadyAssigned` are not being granted now (a
 * client resending a whole list), so they pass.
 */
export async function requireRolesHeld(roleIds: readonly string[], pointerOf: PointerOf, alreadyAssigned: ReadonlySet<string> = new Set()): Promise<void> {
  const grants = await roleGrants(roleIds.filter((id) => !alreadyAssigned.has(id)));
  const principal = currentPrincipal();
  for (const [index, roleId] of roleIds.entries()) {
    if (alreadyAssigned.has(roleId)) continue;
    const refused = grantNotHeld(beyondHolder(grants.get(roleId) ?? NOTHING, principal), { pointer: pointerOf(index) });
    if (refused) throw refused;
  }
}

/**
 * Runs a change to roles, assignments or memberships, one at a time per
 * tenant, then refuses it (the request transaction rolls it back) if it
 * touched an owner and the caller is not one, gave any member more than the
 * caller holds, or left the tenant without an owner holding every permission.
 */
export async function guardMemberChanges<T>(change: () => Promise<T>): Promise<T> {
  await lockTenantGrants();
  const before = await memberGrants();
  const result = await change();
  const refused = judgeMemberChanges(before, await memberGrants(), currentPrincipal());
  if (refused) throw refused;
  return result;
}
