import { DATE_FILTER, QuerySpec } from '../common/jsonapi/query-spec';
import { ListColumns } from '../rbac/list-query-sql';

export const MEMBERSHIP_FIELDS = ['role', 'date_joined', 'user', 'tenant'] as const;

/**
 * What a membership list takes (Prowler's MembershipFilter, the same for a
 * tenant's and a user's memberships) and the columns it compares.
 */
export const MEMBERSHIP_LIST: QuerySpec = {
  filters: {
    role: { type: 'enum', operators: ['eq', 'in'], values: ['owner', 'member'] },
    user: { type: 'uuid', operators: ['eq', 'in'] },
    tenant: { type: 'uuid', operators: ['eq', 'in'] },
    date_joined: DATE_FILTER,
    search: { type: 'string', operators: ['eq'] },
  },
  sorts: ['id', 'user', 'tenant', 'role', 'date_joined'],
  defaultSort: 'date_joined',
  fields: { memberships: MEMBERSHIP_FIELDS },
};

export const MEMBERSHIP_LIST_COLUMNS: ListColumns = {
  filters: {
    role: 'm.role',
    user: 'm.user_id',
    tenant: 'm.tenant_id',
    date_joined: 'm.date_joined',
    // Prowler's membership views declare no search fields, so its search filter leaves the list as it is.
    search: () => 'true',
  },
  sorts: { id: 'm.id', user: 'm.user_id', tenant: 'm.tenant_id', role: 'm.role', date_joined: 'm.date_joined' },
  tieBreaker: 'm.id',
};
