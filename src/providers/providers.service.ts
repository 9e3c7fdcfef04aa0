import { Injectable } from '@nestjs/common';
import { ApiError } from '../common/errors/api-error';
import { ParsedQuery, QuerySpec } from '../common/jsonapi/query-spec';
import { currentPrincipal } from '../database/tenant-context';
import { newId } from '../database/uuid';
import { PointerOf, requireKnown } from '../rbac/relationship-ids';
import { RowFilterService } from '../rls-rules/row-filter.service';
import { validateProviderUid } from './provider-uid-rules';
import { CreateProviderAttributes, UpdateProviderAttributes } from './provider.dto';
import { ProviderRow } from './provider.resource';
import {
  findVisibleProvider,
  findVisibleProviders,
  insertProvider,
  listProviders,
  liveProviderWithUidExists,
  ProviderRowFilter,
  updateProvider,
  visibleProviderIds,
} from './providers.repository';

const UID_POINTER = { pointer: '/data/attributes/uid' };

function duplicateUid(): ApiError {
  return ApiError.conflict('unique', 'A provider of this type with this UID already exists in the tenant.', UID_POINTER);
}

@Injectable()
export class ProvidersService {
  /** Every read of providers goes through the row filter rules, so lists, counts, details and relationship checks agree. */
  private readonly rowFilter: ProviderRowFilter;

  constructor(rowFilters: RowFilterService) {
    this.rowFilter = (paramOffset) => rowFilters.predicateFor('providers', 'p', paramOffset);
  }

  list(query: ParsedQuery, spec: QuerySpec): Promise<{ rows: ProviderRow[]; count: number }> {
    return listProviders(query, spec, this.rowFilter);
  }

  /**
   * A live provider the caller may see; 404 otherwise, the same answer whether
   * it is missing, deleted or invisible. `pointer` names where a body referred to it.
   */
  async getVisibleProvider(id: string, pointer?: string): Promise<ProviderRow> {
    const provider = await findVisibleProvider(id, this.rowFilter);
    if (!provider) throw new ApiError(404, 'not_found', 'Provider not found.', pointer ? { pointer } : undefined);
    return provider;
  }

  /** The live providers among `ids` the caller may see, e.g. to include them beside scans. */
  findVisible(ids: readonly string[]): Promise<ProviderRow[]> {
    return findVisibleProviders(ids, this.rowFilter);
  }

  /** Checks that every id names a provider the caller may see; 404 at the first that does not. */
  async requireVisibleProviders(ids: readonly string[], pointerOf: PointerOf): Promise<void> {
    requireKnown(ids, await visibleProviderIds(ids, this.rowFilter), 'Provider', pointerOf);
  }

  async create(attributes: CreateProviderAttributes): Promise<ProviderRow> {
    const uid = validateProviderUid(attributes.provider, attributes.uid);
    const inserted = await insertProvider({
      id: newId(),
      tenantId: currentPrincipal().tenantId,
      provider: attributes.provider,
      uid,
      alias: attributes.alias ?? null,
    });
    if (!inserted) throw duplicateUid();
    return inserted;
  }

  async update(id: string, attributes: UpdateProviderAttributes): Promise<ProviderRow> {
    const provider = await this.getVisibleProvider(id);
    const changes: { uid?: string; alias?: string | null } = {};
    if (attributes.uid === null) throw ApiError.badRequest('required', 'uid may not be null.', UID_POINTER);
    if (attributes.uid !== undefined) {
      changes.uid = validateProviderUid(provider.provider, attributes.uid);
      if (changes.uid !== provider.uid && (await liveProviderWithUidExists(provider.provider, changes.uid, id))) throw duplicateUid();
    }
    if (attributes.alias !== undefined) changes.alias = attributes.alias;
    await updateProvider(id, changes);
    return this.getVisibleProvider(id);
  }
}
