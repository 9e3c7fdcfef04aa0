import type { QuerySpec } from '../common/jsonapi/query-spec';
import { listDatasets } from './clause/dataset-catalog';

const NAME_SEARCH: QuerySpec['filters'] = { name: { type: 'string', operators: ['eq', 'icontains'] } };

export const RELATED_ROLES_QUERY: QuerySpec = { filters: NAME_SEARCH };
export const RELATED_TABLES_QUERY: QuerySpec = { filters: NAME_SEARCH };

export const EFFECTIVE_QUERY: QuerySpec = {
  filters: {
    table: { type: 'enum', operators: ['eq'], values: listDatasets().map((dataset) => dataset.name) },
    user: { type: 'uuid', operators: ['eq'] },
  },
  includes: ['rules'],
};
