import { boolean, dateTime, oneOf, text } from '../common/jsonapi/attribute-schema';
import { ResourceDefinition } from '../common/jsonapi/resource-definition';
import { Permission, PERMISSIONS } from './permissions';

export type PermissionState = 'unlimited' | 'limited' | 'none';

export type RoleRow = {
  id: string;
  name: string;
  permission_state: PermissionState;
  inserted_at: Date;
  updated_at: Date;
  provider_group_ids: string[] | null;
  user_ids: string[] | null;
  invitation_ids: string[] | null;
} & Record<Permission, boolean>;

export const ROLE_FIELDS = [
  'name',
  ...PERMISSIONS,
  'permission_state',
  'inserted_at',
  'updated_at',
  'provider_groups',
  'users',
  'invitations',
] as const;

export const roleResource: ResourceDefinition<RoleRow> = {
  schema: {
    name: text,
    ...Object.fromEntries(PERMISSIONS.map((permission) => [permission, boolean])),
    permission_state: oneOf(['unlimited', 'limited', 'none']),
    inserted_at: dateTime,
    updated_at: dateTime,
  },
  type: 'roles',
  selfPath: 'roles',
  id: (r) => r.id,
  attributes: (r) => ({
    name: r.name,
    ...Object.fromEntries(PERMISSIONS.map((permission) => [permission, r[permission]])),
    permission_state: r.permission_state,
    inserted_at: r.inserted_at,
    updated_at: r.updated_at,
  }),
  relationships: {
    provider_groups: { type: 'provider-groups', many: true, ids: (r) => r.provider_group_ids ?? [] },
    users: { type: 'users', many: true, ids: (r) => r.user_ids ?? [] },
    invitations: { type: 'invitations', many: true, ids: (r) => r.invitation_ids ?? [] },
  },
};
