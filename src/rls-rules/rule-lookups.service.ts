import { Injectable } from '@nestjs/common';
import { limitOffset, listMeta } from '../common/jsonapi/paging';
import type { ParsedQuery } from '../common/jsonapi/query-spec';
import { type Dataset, listDatasets } from './clause/dataset-catalog';
import type { RoleChoiceRow } from './rls-rule.resource';
import { searchRoles } from './role-lookups.repository';

export interface Page<Row> {
  rows: Row[];
  meta: Record<string, unknown>;
}

/** The choices a rule form offers: the tenant's roles and the protected datasets, searchable by name. */
@Injectable()
export class RuleLookupsService {
  async roles(query: ParsedQuery): Promise<Page<RoleChoiceRow>> {
    const { limit, offset } = limitOffset(query.page);
    const { roles, count } = await searchRoles(nameSearch(query), limit, offset);
    return { rows: roles, meta: listMeta(query.page, count) };
  }

  tables(query: ParsedQuery): Page<Dataset> {
    const { name, nameContains } = nameSearch(query);
    const matching = listDatasets()
      .filter((dataset) => (name === undefined || dataset.name === name) && (nameContains === undefined || dataset.name.includes(nameContains.toLowerCase())))
      .sort((a, b) => (a.name < b.name ? -1 : 1));
    const { limit, offset } = limitOffset(query.page);
    return { rows: matching.slice(offset, limit === null ? undefined : offset + limit), meta: listMeta(query.page, matching.length) };
  }
}

function nameSearch(query: ParsedQuery): { name?: string; nameContains?: string } {
  const search: { name?: string; nameContains?: string } = {};
  for (const filter of query.filters) {
    if (filter.field !== 'name') continue;
    if (filter.operator === 'icontains') search.nameContains = String(filter.value);
    else search.name = String(filter.value);
  }
  return search;
}
