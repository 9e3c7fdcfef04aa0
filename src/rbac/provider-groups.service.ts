import { forwardRef, Inject, Injectable } from '@nestjs/common';
import { ApiError } from '../common/errors/api-error';
import { ParsedQuery, QuerySpec } from '../common/jsonapi/query-spec';
import { currentPrincipal } from '../database/tenant-context';
import { newId } from '../database/uuid';
import { ProvidersService } from '../providers/providers.service';
import { guardMemberChanges } from './grant-checks';
import { addLinks, linkedTargets, PROVIDER_GROUP_PROVIDERS, PROVIDER_GROUP_ROLES, removeLinks, replaceLinks } from './link-table';
import { CreateProviderGroupAttributes, UpdateProviderGroupAttributes } from './provider-group.dto';
import { ProviderGroupRow } from './provider-group.resource';
import { deleteGroup, findVisibleGroups, insertGroup, listGroups, renameGroup } from './provider-groups.repository';
import { PointerOf, RelatedIds, refuseAlreadyLinked, requireKnown } from './relationship-ids';
import { existingRoleIds } from './roles.repository';

export interface ProviderGroupLinks {
  providerIds?: RelatedIds;
  roleIds?: RelatedIds;
}

/**
 * Provider groups: the unit of visibility for limited roles. A provider or
 * group the caller cannot see is 404 here exactly as if it did not exist.
 */
@Injectable()
export class ProviderGroupsService {
  constructor(@Inject(forwardRef(() => ProvidersService)) private readonly providers: ProvidersService) {}

  list(query: ParsedQuery, spec: QuerySpec): Promise<{ rows: ProviderGroupRow[]; count: number }> {
    return listGroups(query, spec);
  }

  async get(id: string): Promise<ProviderGroupRow> {
    const [group] = await findVisibleGroups([id]);
    if (!group) throw ApiError.notFound();
    return group;
  }

  /** The groups among `ids` the caller may see, e.g. to include them beside providers. */
  findVisible(ids: readonly string[]): Promise<ProviderGroupRow[]> {
    return findVisibleGroups(ids);
  }

  async create(attributes: CreateProviderGroupAttributes, links: ProviderGroupLinks): Promise<ProviderGroupRow> {
    await this.checkLinks(links);
    const group = await insertGroup(newId(), currentPrincipal().tenantId, attributes.name);
    const providerIds = [...new Set(links.providerIds?.ids ?? [])];
    const roleIds = [...new Set(links.roleIds?.ids ?? [])];
    await addLinks(PROVIDER_GROUP_PROVIDERS, group.id, providerIds);
    if (roleIds.length) await guardMemberChanges(() => addLinks(PROVIDER_GROUP_ROLES, group.id, roleIds));
    // Answered as created, not read back: a limited role may make a group it is not linked to, and so cannot see.
    return { ...group, provider_ids: providerIds, role_ids: roleIds };
  }

  async update(id: string, attributes: UpdateProviderGroupAttributes, links: ProviderGroupLinks): Promise<ProviderGroupRow> {
    await this.get(id);
    await this.checkLinks(links);
    if (attributes.name !== undefined) await renameGroup(id, attributes.name);
    if (links.providerIds) await replaceLinks(PROVIDER_GROUP_PROVIDERS, id, links.providerIds.ids);
    if (links.roleIds) {
      const roleIds = links.roleIds.ids;
      await guardMemberChanges(() => replaceLinks(PROVIDER_GROUP_ROLES, id, roleIds));
    }
    return this.get(id);
  }

  async remove(id: string): Promise<void> {
    await this.get(id);
    await deleteGroup(id);
  }

  async addProviders(groupId: string, providerIds: string[], pointerOf: PointerOf): Promise<void> {
    await this.get(groupId);
    await this.providers.requireVisibleProviders(providerIds, pointerOf);
    refuseAlreadyLinked(providerIds, await linkedTargets(PROVIDER_GROUP_PROVIDERS, groupId), 'provider', pointerOf);
    await addLinks(PROVIDER_GROUP_PROVIDERS, groupId, providerIds);
  }

  async replaceProviders(groupId: string, providerIds: string[], pointerOf: PointerOf): Promise<void> {
    await this.get(groupId);
    await this.providers.requireVisibleProviders(providerIds, pointerOf);
    await replaceLinks(PROVIDER_GROUP_PROVIDERS, groupId, providerIds);
  }

  /** Unlinks the given providers, or all of them when `providerIds` is null. */
  async removeProviders(groupId: string, providerIds: string[] | null): Promise<void> {
    await this.get(groupId);
    await removeLinks(PROVIDER_GROUP_PROVIDERS, groupId, providerIds);
  }

  private async checkLinks(links: ProviderGroupLinks): Promise<void> {
    if (links.providerIds) await this.providers.requireVisibleProviders(links.providerIds.ids, links.providerIds.pointerOf);
    if (links.roleIds) {
      // Which roles see a group is role administration: the same link made from the role's side needs manage_users.
      if (!currentPrincipal().permissions.has('manage_users')) {
        throw new ApiError(403, 'permission_denied', "Linking roles to a provider group needs the 'manage_users' permission.", { pointer: '/data/relationships/roles' });
      }
      requireKnown(links.roleIds.ids, await existingRoleIds(links.roleIds.ids), 'Role', links.roleIds.pointerOf);
    }
  }
}
