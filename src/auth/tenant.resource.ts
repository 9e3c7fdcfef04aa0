import { dateTime, oneOf, text } from '../common/jsonapi/attribute-schema';
import { ResourceDefinition } from '../common/jsonapi/resource-definition';

export interface TenantRow {
  id: string;
  name: string;
  inserted_at: Date;
  updated_at: Date;
  membership_ids?: string[] | null;
}

export const tenantResource: ResourceDefinition<TenantRow> = {
  schema: { name: text, inserted_at: dateTime, updated_at: dateTime },
  type: 'tenants',
  id: (t) => t.id,
  attributes: (t) => ({ name: t.name, inserted_at: t.inserted_at, updated_at: t.updated_at }),
  relationships: { memberships: { type: 'memberships', many: true, ids: (t) => t.membership_ids ?? undefined } },
};

export interface MembershipRow {
  id: string;
  tenant_id: string;
  user_id: string;
  role: 'owner' | 'member';
  date_joined: Date;
}

export const membershipResource: ResourceDefinition<MembershipRow> = {
  schema: { role: oneOf(['owner', 'member']), date_joined: dateTime },
  type: 'memberships',
  id: (m) => m.id,
  attributes: (m) => ({ role: m.role, date_joined: m.date_joined }),
  relationships: {
    user: { type: 'users', ids: (m) => m.user_id },
    tenant: { type: 'tenants', ids: (m) => m.tenant_id },
  },
};
