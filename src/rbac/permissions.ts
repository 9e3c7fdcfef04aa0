import { SetMetadata } from '@nestjs/common';

export const PERMISSIONS = [
  'manage_users',
  'manage_account',
  'manage_billing',
  'manage_providers',
  'manage_integrations',
  'manage_scans',
  'unlimited_visibility',
] as const;

export type Permission = (typeof PERMISSIONS)[number];

export const REQUIRED_PERMISSIONS = 'required_permissions';
export const OWNER_ONLY = 'owner_only';

/** The permissions the caller's first role must hold; checked by TenantInterceptor inside the request transaction. */
export const RequirePermissions = (...permissions: Permission[]) => SetMetadata(REQUIRED_PERMISSIONS, permissions);

/** Only the tenant's owners (membership role `owner`) may call the endpoint. */
export const OwnerOnly = () => SetMetadata(OWNER_ONLY, true);
