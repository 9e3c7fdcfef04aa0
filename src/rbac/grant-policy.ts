import { ApiError, ApiErrorSource } from '../common/errors/api-error';
import { Permission, PERMISSIONS } from './permissions';

/**
 * Who may grant what. The rules, in one place:
 * - nobody grants what they do not hold: a role they create or edit, assign,
 *   or put on an invitation holds only permissions their own first role
 *   holds, and (without unlimited_visibility) shows only providers they see;
 *   and no change leaves a member with a permission or provider the caller
 *   lacks that they did not have before (taking someone's first role away
 *   promotes their next one);
 * - an owner's roles and membership are changed only by an owner;
 * - the tenant keeps an owner whose first role holds every permission.
 */

/** What a role grants whoever holds it first. */
export interface Grant {
  permissions: ReadonlySet<Permission>;
  /** null: every provider of the tenant (unlimited_visibility). */
  providers: ReadonlySet<string> | null;
}

export interface MemberGrant {
  owner: boolean;
  /** Changes when the member's role assignments or those roles' flags change. */
  rolesSignature: string;
  grant: Grant;
}

/** What the caller holds, from the principal. */
export interface Holder {
  permissions: ReadonlySet<string>;
  visibleProviderIds: ReadonlySet<string> | null;
  membershipRole: 'owner' | 'member' | null;
}

/** What `gained` adds over `before` that `holder` does not hold: permission names, and whether unseen providers are among it. */
export function beyondHolder(gained: Grant, holder: Holder, before: Grant = NOTHING): { permissions: Permission[]; unseenProviders: boolean } {
  const permissions = PERMISSIONS.filter((p) => gained.permissions.has(p) && !before.permissions.has(p) && !holder.permissions.has(p));
  // Unlimited visibility gained is a permission, named above; otherwise the providers newly visible must be ones the holder sees.
  const seen = holder.visibleProviderIds;
  const had = before.providers;
  const unseenProviders = seen !== null && gained.providers !== null && had !== null && [...gained.providers].some((id) => !had.has(id) && !seen.has(id));
  return { permissions, unseenProviders };
}

export const NOTHING: Grant = { permissions: new Set(), providers: new Set() };

export function grantNotHeld(excess: { permissions: Permission[]; unseenProviders: boolean }, source?: ApiErrorSource): ApiError | null {
  if (excess.permissions.length === 0 && !excess.unseenProviders) return null;
  const what = excess.permissions.length
    ? `permissions your role does not hold (${excess.permissions.join(', ')})`
    : 'access to providers your role cannot see';
  return new ApiError(403, 'grant_not_held', `You cannot grant ${what}.`, source);
}

/**
 * Compares the members before and after a change made in the caller's
 * transaction; the error to refuse it with, or null. The caller throws it,
 * and the request transaction rolls the change back.
 */
export function judgeMemberChanges(before: ReadonlyMap<string, MemberGrant>, after: ReadonlyMap<string, MemberGrant>, holder: Holder): ApiError | null {
  if (holder.membershipRole !== 'owner') {
    for (const [userId, was] of before) {
      const now = after.get(userId);
      if (was.owner && (!now || now.rolesSignature !== was.rolesSignature)) {
        return new ApiError(403, 'owner_only', "Only an owner may change an owner's roles or membership.");
      }
    }
  }
  for (const [userId, now] of after) {
    const refused = grantNotHeld(beyondHolder(now.grant, holder, before.get(userId)?.grant));
    if (refused) return refused;
  }
  const fullOwners = (members: ReadonlyMap<string, MemberGrant>) => [...members.values()].filter((m) => m.owner && isFullGrant(m.grant)).length;
  const ownersAfter = [...after.values()].filter((m) => m.owner).length;
  if (fullOwners(after) === 0 && (fullOwners(before) > 0 || ownersAfter === 0)) {
    return ApiError.conflict('last_owner', 'The tenant must keep an owner whose first role holds every permission.');
  }
  return null;
}

function isFullGrant(grant: Grant): boolean {
  return PERMISSIONS.every((p) => grant.permissions.has(p));
}
