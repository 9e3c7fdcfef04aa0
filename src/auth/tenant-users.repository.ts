import { ParsedQuery, QuerySpec } from '../common/jsonapi/query-spec';
import { containsPattern, filterConditions, ListColumns, orderBy, pagedList, SqlParams } from '../rbac/list-query-sql';
import { UserRow } from './user.resource';
import { USER_COLUMNS } from './users.repository';

/** The users of the current tenant: the users policy shows only those with a membership here. */
const LIST_COLUMNS: ListColumns = {
  filters: {
    name: 'u.name',
    company_name: 'u.company_name',
    is_active: 'u.is_active',
    date_joined: 'u.date_joined',
    email: (filter, params) =>
      filter.operator === 'icontains'
        ? `u.email ILIKE ${params.add(containsPattern(String(filter.value)))}`
        : `lower(u.email) = lower(${params.add(filter.value)})`,
    search: (filter, params) => {
      const pattern = params.add(containsPattern(String(filter.value)));
      return `(u.name ILIKE ${pattern} OR u.email ILIKE ${pattern} OR u.company_name ILIKE ${pattern})`;
    },
  },
  sorts: { name: 'u.name', email: 'u.email', company_name: 'u.company_name', date_joined: 'u.date_joined', is_active: 'u.is_active' },
  tieBreaker: 'u.id',
};

export async function listTenantUsers(query: ParsedQuery, spec: QuerySpec): Promise<{ rows: UserRow[]; count: number }> {
  const params = new SqlParams();
  return pagedList<UserRow>({
    from: 'users u',
    alias: 'u',
    // A tenant's users are few; their role and membership ids come with the row.
    columns: USER_COLUMNS,
    where: filterConditions(query, spec, LIST_COLUMNS, params),
    order: orderBy(query.sort, LIST_COLUMNS),
    page: query.page,
    params,
  });
}
