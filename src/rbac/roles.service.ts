import { Injectable } from '@nestjs/common';
import { ApiError } from '../common/errors/api-error';
import { ParsedQuery, QuerySpec } from '../common/jsonapi/query-spec';
import { currentPrincipal } from '../database/tenant-context';
import { newId } from '../database/uuid';
import { guardMemberChanges, requireFlagsHeld, requireRolesHeld } from './grant-checks';
import { addLinks, linkedTargets, removeLinks, replaceLinks, ROLE_PROVIDER_GROUPS, ROLE_USERS, USER_ROLES } from './link-table';
import { Permission, PERMISSIONS } from './permissions';
import { visibleGroupIds } from './provider-groups.repository';
import { PointerOf, RelatedIds, refuseAlreadyLinked, requireKnown } from './relationship-ids';
import { CreateRoleAttributes, UpdateRoleAttributes } from './role.dto';
import { RoleRow } from './role.resource';
import {
  deleteRole,
  existingRoleIds,
  findRoles,
  insertRole,
  listRoles,
  memberUserIds,
  RoleChanges,
  updateRole,
} from './roles.repository';

export interface RoleLinks {
  providerGroupIds?: RelatedIds;
  userIds?: RelatedIds;
}

/**
 * Roles, their provider groups and who holds them. Every change that can
 * alter what a member holds runs under guardMemberChanges (grant-policy.ts):
 * nobody grants more than they hold, only an owner touches an owner, and the
 * tenant keeps an owner with every permission. A refused change, being
 * inside the request transaction, leaves nothing behind.
 */
@Injectable()
export class RolesService {
  list(query: ParsedQuery, spec: QuerySpec): Promise<{ rows: RoleRow[]; count: number }> {
    return listRoles(query, spec);
  }

  async get(id: string): Promise<RoleRow> {
    const [role] = await findRoles([id]);
    if (!role) throw ApiError.notFound();
    return role;
  }

  findByIds(ids: readonly string[]): Promise<RoleRow[]> {
    return findRoles(ids);
  }

  async requireRoles(ids: readonly string[], pointerOf: PointerOf): Promise<void> {
    requireKnown(ids, await existingRoleIds(ids), 'Role', pointerOf);
  }

  async create(attributes: CreateRoleAttributes, links: RoleLinks): Promise<RoleRow> {
    const flags = permissionChanges(attributes);
    requireFlagsHeld(flags);
    await this.checkLinks(links);
    const id = newId();
    await guardMemberChanges(async () => {
      await insertRole(id, currentPrincipal().tenantId, { ...flags, name: attributes.name });
      if (links.providerGroupIds) await addLinks(ROLE_PROVIDER_GROUPS, id, links.providerGroupIds.ids);
      if (links.userIds) await addLinks(ROLE_USERS, id, links.userIds.ids);
    });
    return this.get(id);
  }

  async update(id: string, attributes: UpdateRoleAttributes, links: RoleLinks): Promise<RoleRow> {
    const before = await this.get(id);
    const changes: RoleChanges = permissionChanges(attributes);
    requireFlagsHeld(changes, before);
    await this.checkLinks(links);
    if (attributes.name !== undefined) changes.name = attributes.name;
    await guardMemberChanges(async () => {
      await updateRole(id, changes);
      if (links.providerGroupIds) await replaceLinks(ROLE_PROVIDER_GROUPS, id, links.providerGroupIds.ids);
      if (links.userIds) {
        const caller = currentPrincipal().userId;
        const grantsAccount = attributes.manage_account ?? before.manage_account;
        if (grantsAccount && (before.user_ids ?? []).includes(caller) && !links.userIds.ids.includes(caller)) {
          throw ApiError.badRequest('own_assignment', 'You cannot remove yourself from a role that grants manage_account.', { pointer: '/data/relationships/users' });
        }
        // Holders added to the role get all of it, as it stands after this change.
        if (links.userIds.ids.some((userId) => !(before.user_ids ?? []).includes(userId))) await requireRolesHeld([id], () => '/data/relationships/users');
        await replaceLinks(ROLE_USERS, id, links.userIds.ids);
      }
    });
    return this.get(id);
  }

  async remove(id: string): Promise<void> {
    await guardMemberChanges(async () => {
      if ((await deleteRole(id)) === 0) throw ApiError.notFound();
    });
  }

  /** A group linked to a role shows its providers to the role's holders: the caller sees every group they may link. */
  async addProviderGroups(roleId: string, groupIds: string[], pointerOf: PointerOf): Promise<void> {
    await this.get(roleId);
    requireKnown(groupIds, await visibleGroupIds(groupIds), 'Provider group', pointerOf);
    refuseAlreadyLinked(groupIds, await linkedTargets(ROLE_PROVIDER_GROUPS, roleId), 'provider group', pointerOf);
    await guardMemberChanges(() => addLinks(ROLE_PROVIDER_GROUPS, roleId, groupIds));
  }

  async replaceProviderGroups(roleId: string, groupIds: string[], pointerOf: PointerOf): Promise<void> {
    await this.get(roleId);
    requireKnown(groupIds, await visibleGroupIds(groupIds), 'Provider group', pointerOf);
    await guardMemberChanges(() => replaceLinks(ROLE_PROVIDER_GROUPS, roleId, groupIds));
  }

  /** Unlinks the given groups, or all of them when `groupIds` is null. */
  async removeProviderGroups(roleId: string, groupIds: string[] | null): Promise<void> {
    await this.get(roleId);
    await guardMemberChanges(() => removeLinks(ROLE_PROVIDER_GROUPS, roleId, groupIds));
  }

  /** New roles go after the ones the user holds, so the user's first role stays the same. */
  async addUserRoles(userId: string, roleIds: string[], pointerOf: PointerOf): Promise<void> {
    await this.requireMember(userId);
    await this.requireRoles(roleIds, pointerOf);
    refuseAlreadyLinked(roleIds, await linkedTargets(USER_ROLES, userId), 'role', pointerOf);
    await requireRolesHeld(roleIds, pointerOf);
    await guardMemberChanges(() => addLinks(USER_ROLES, userId, roleIds));
  }

  /** Roles the user keeps keep their place; new ones follow in the order given. */
  async replaceUserRoles(userId: string, roleIds: string[], pointerOf: PointerOf): Promise<void> {
    await this.requireMember(userId);
    await this.requireRoles(roleIds, pointerOf);
    await requireRolesHeld(roleIds, pointerOf, new Set(await linkedTargets(USER_ROLES, userId)));
    await guardMemberChanges(() => replaceLinks(USER_ROLES, userId, roleIds));
  }

  /** Takes the given roles, or all of them when `roleIds` is null; never the caller's own. */
  async removeUserRoles(userId: string, roleIds: string[] | null): Promise<void> {
    await this.requireMember(userId);
    if (userId === currentPrincipal().userId) {
      throw ApiError.badRequest('own_assignment', 'You cannot remove your own role assignments.', { pointer: '/data' });
    }
    await guardMemberChanges(() => removeLinks(USER_ROLES, userId, roleIds));
  }

  private async requireMember(userId: string): Promise<void> {
    if (!(await memberUserIds([userId])).has(userId)) throw ApiError.notFound();
  }

  private async checkLinks(links: RoleLinks): Promise<void> {
    if (links.providerGroupIds) {
      const { ids, pointerOf } = links.providerGroupIds;
      requireKnown(ids, await visibleGroupIds(ids), 'Provider group', pointerOf);
    }
    if (links.userIds) {
      const { ids, pointerOf } = links.userIds;
      requireKnown(ids, await memberUserIds(ids), 'User', pointerOf);
    }
  }
}

/** Only the seven permission flags, taken from the validated attributes. */
function permissionChanges(attributes: Partial<Record<Permission, boolean>>): Partial<Record<Permission, boolean>> {
  return Object.fromEntries(PERMISSIONS.filter((p) => attributes[p] !== undefined).map((p) => [p, attributes[p]]));
}
