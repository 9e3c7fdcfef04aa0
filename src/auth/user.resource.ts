import { dateTime, text } from '../common/jsonapi/attribute-schema';
import { ResourceDefinition } from '../common/jsonapi/resource-definition';

export interface UserRow {
  id: string;
  name: string;
  email: string;
  company_name: string | null;
  date_joined: Date;
  membership_ids: string[] | null;
  /** The user's membership in the tenant of the request, if any. */
  active_membership_id: string | null;
  role_ids: string[] | null;
}

export const USER_FIELDS = ['name', 'email', 'company_name', 'date_joined', 'memberships', 'roles'] as const;

export const userResource: ResourceDefinition<UserRow> = {
  schema: { name: text, email: text, company_name: text, date_joined: dateTime },
  type: 'users',
  id: (u) => u.id,
  attributes: (u) => ({ name: u.name, email: u.email, company_name: u.company_name ?? '', date_joined: u.date_joined }),
  relationships: {
    memberships: {
      type: 'memberships',
      many: true,
      ids: (u) => u.membership_ids ?? [],
      identifierMeta: (u, membershipId) => ({ active: membershipId === u.active_membership_id }),
    },
    roles: { type: 'roles', many: true, ids: (u) => u.role_ids ?? [] },
  },
};
