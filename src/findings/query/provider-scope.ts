import { FilterSpec, ParsedFilter } from '../../common/jsonapi/query-spec';
import { currentPrincipal } from '../../database/tenant-context';
import { PROVIDER_TYPES } from '../../providers/provider-uid-rules';
import { addColumnFilter } from './column-filters';
import { SqlConditions } from './sql-conditions';

/** Filters that select providers, shared by findings, resources and overviews. */
export const PROVIDER_FILTER_SPECS: Record<string, FilterSpec> = {
  provider: { type: 'uuid', operators: ['eq', 'in'] },
  provider_id: { type: 'uuid', operators: ['eq', 'in'] },
  provider_type: { type: 'enum', operators: ['eq', 'in'], values: PROVIDER_TYPES },
  provider_uid: { type: 'string', operators: ['eq', 'in', 'icontains'] },
  provider_alias: { type: 'string', operators: ['eq', 'in', 'icontains'] },
  /** Providers in one of these groups. */
  provider_groups: { type: 'uuid', operators: ['eq', 'in'] },
};

const PROVIDER_COLUMNS: Record<string, string> = {
  provider: 'p.id',
  provider_id: 'p.id',
  provider_type: 'p.provider',
  provider_uid: 'p.uid',
  provider_alias: 'p.alias',
  provider_groups: 'pgm.provider_group_id',
};

export function isProviderFilter(filter: ParsedFilter): boolean {
  return filter.field in PROVIDER_COLUMNS;
}

/**
 * An SQL array of the provider ids a read may cover: live (a soft-deleted
 * provider's data disappears at once, before the deletion job removes it),
 * visible to the caller's role, and matching the request's provider filters.
 * Evaluated once per statement as an init plan.
 */
export function providerScopeSql(conditions: SqlConditions, filters: readonly ParsedFilter[]): string {
  const scope = conditions.subquery().add('p.deleted_at IS NULL');
  const visible = currentPrincipal().visibleProviderIds;
  if (visible !== null) scope.add(`p.id = ANY(${scope.param([...visible])}::uuid[])`);
  for (const filter of filters) {
    if (filter.field === 'provider_groups') {
      const groups = scope.subquery();
      addColumnFilter(groups, PROVIDER_COLUMNS.provider_groups, filter);
      scope.add(`p.id IN (SELECT pgm.provider_id FROM provider_group_memberships pgm ${groups.where()})`);
    } else if (isProviderFilter(filter)) {
      addColumnFilter(scope, PROVIDER_COLUMNS[filter.field], filter);
    }
  }
  return `ARRAY(SELECT p.id FROM providers p ${scope.where()})`;
}
