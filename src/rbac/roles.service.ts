import { Injectable } from '@nestjs/common';
import { ApiError } from '../common/errors/api-error';
import { ParsedQuery, QuerySpec } from '../common/jsonapi/query-spec';
import { currentPrincipal } from '../database/tenant-context';
import { newId } from '../database/uuid';
import { addLinks, linkedTargets, removeLinks, replaceLinks, ROLE_PROVIDER_GROUPS, ROLE_USERS, USER_ROLES } from './link-table';
import { Permission, PERMISSIONS } from './permissions';
import { visibleGroupIds } from './provider-groups.repository';
import { PointerOf, RelatedIds, refuseAlreadyLinked, requireKnown } from './relationship-ids';
import { CreateRoleAttributes, UpdateRoleAttributes } from './role.dto';
import { RoleRow } from './role.resource';
import {
  accountManagerExists,
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
 * Roles, their provider groups and who holds them. A change that would leave
 * no member whose first role grants manage_account is refused (and, being
 * inside the request transaction, leaves nothing behind): otherwise no one
 * could manage the tenant any more.
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
    await this.checkLinks(links);
    const id = newId();
    await insertRole(id, currentPrincipal().tenantId, { ...permissionChanges(attributes), name: attributes.name });
    if (links.providerGroupIds) await addLinks(ROLE_PROVIDER_GROUPS, id, links.providerGroupIds.ids);
    if (links.userIds) await addLinks(ROLE_USERS, id, links.userIds.ids);
    return this.get(id);
  }

  async update(id: string, attributes: UpdateRoleAttributes, links: RoleLinks): Promise<RoleRow> {
    const before = await this.get(id);
    await this.checkLinks(links);
    const changes: RoleChanges = permissionChanges(attributes);
    if (attributes.name !== undefined) changes.name = attributes.name;
    await updateRole(id, changes);
    if (links.providerGroupIds) await replaceLinks(ROLE_PROVIDER_GROUPS, id, links.providerGroupIds.ids);
    if (links.userIds) {
      const caller = currentPrincipal().userId;
      const grantsAccount = attributes.manage_account ?? before.manage_account;
      if (grantsAccount && (before.user_ids ?? []).includes(caller) && !links.userIds.ids.includes(caller)) {
        throw ApiError.badRequest('own_assignment', 'You cannot remove yourself from a role that grants manage_account.', { pointer: '/data/relationships/users' });
      }
      await replaceLinks(ROLE_USERS, id, links.userIds.ids);
    }
    await this.assertAccountManagerRemains();
    return this.get(id);
  }

  async remove(id: string): Promise<void> {
    if ((await deleteRole(id)) === 0) throw ApiError.notFound();
    await this.assertAccountManagerRemains();
  }

  async addProviderGroups(roleId: string, groupIds: string[], pointerOf: PointerOf): Promise<void> {
    await this.get(roleId);
    requireKnown(groupIds, await visibleGroupIds(groupIds), 'Provider group', pointerOf);
    refuseAlreadyLinked(groupIds, await linkedTargets(ROLE_PROVIDER_GROUPS, roleId), 'provider group', pointerOf);
    await addLinks(ROLE_PROVIDER_GROUPS, roleId, groupIds);
  }

  async replaceProviderGroups(roleId: string, groupIds: string[], pointerOf: PointerOf): Promise<void> {
    await this.get(roleId);
    requireKnown(groupIds, await visibleGroupIds(groupIds), 'Provider group', pointerOf);
    await replaceLinks(ROLE_PROVIDER_GROUPS, roleId, groupIds);
  }

  /** Unlinks the given groups, or all of them when `groupIds` is null. */
  async removeProviderGroups(roleId: string, groupIds: string[] | null): Promise<void> {
    await this.get(roleId);
    await removeLinks(ROLE_PROVIDER_GROUPS, roleId, groupIds);
  }

  /** New roles go after the ones the user holds, so the user's first role stays the same. */
  async addUserRoles(userId: string, roleIds: string[], pointerOf: PointerOf): Promise<void> {
    await this.requireMember(userId);
    await this.requireRoles(roleIds, pointerOf);
    refuseAlreadyLinked(roleIds, await linkedTargets(USER_ROLES, userId), 'role', pointerOf);
    await addLinks(USER_ROLES, userId, roleIds);
  }

  /** Roles the user keeps keep their place; new ones follow in the order given. */
  async replaceUserRoles(userId: string, roleIds: string[], pointerOf: PointerOf): Promise<void> {
    await this.requireMember(userId);
    await this.requireRoles(roleIds, pointerOf);
    await replaceLinks(USER_ROLES, userId, roleIds);
    await this.assertAccountManagerRemains();
  }

  /** Takes the given roles, or all of them when `roleIds` is null; never the caller's own. */
  async removeUserRoles(userId: string, roleIds: string[] | null): Promise<void> {
    await this.requireMember(userId);
    if (userId === currentPrincipal().userId) {
      throw ApiError.badRequest('own_assignment', 'You cannot remove your own role assignments.', { pointer: '/data' });
    }
    await removeLinks(USER_ROLES, userId, roleIds);
    await this.assertAccountManagerRemains();
  }

  /** Refuses the change in progress (the request transaction rolls it back) when no member would hold manage_account. */
  async assertAccountManagerRemains(): Promise<void> {
    if (!(await accountManagerExists())) {
      throw ApiError.badRequest('last_account_manager', 'This change would leave no member whose role grants manage_account.');
    }
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
