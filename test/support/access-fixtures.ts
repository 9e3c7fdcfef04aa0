import { randomBytes, randomInt } from 'node:crypto';
import { ApiClient, signIn, SignedUpUser, signUp } from './http-client';

/**
 * Arranging tenants for the access-control suites through the public API:
 * roles, providers, groups, and members who joined by invitation.
 */
export type PermissionFlags = Partial<Record<
  'manage_users' | 'manage_account' | 'manage_billing' | 'manage_providers' | 'manage_integrations' | 'manage_scans' | 'unlimited_visibility',
  boolean
>>;

export const ALL_PERMISSIONS = [
  'manage_users',
  'manage_account',
  'manage_billing',
  'manage_providers',
  'manage_integrations',
  'manage_scans',
  'unlimited_visibility',
] as const;

export interface Member {
  client: ApiClient;
  userId: string;
  email: string;
  password: string;
  membershipId: string;
  refresh: string;
  access: string;
}

export function uniqueName(label: string): string {
  return `${label}-${randomBytes(4).toString('hex')}`;
}

export function randomAwsUid(): string {
  return String(randomInt(100000, 999999)) + String(randomInt(100000, 999999));
}

function expectStatus(result: { status: number; body: unknown }, status: number, what: string): void {
  if (result.status !== status) throw new Error(`${what}: expected ${status}, got ${result.status} ${JSON.stringify(result.body)}`);
}

export async function createRole(admin: ApiClient, permissions: PermissionFlags, label = 'role', providerGroupIds: string[] = []): Promise<string> {
  const result = await admin.post('/api/v1/roles', {
    data: {
      type: 'roles',
      attributes: { name: uniqueName(label), ...permissions },
      relationships: { provider_groups: { data: providerGroupIds.map((id) => ({ type: 'provider-groups', id })) } },
    },
  });
  expectStatus(result, 201, 'create role');
  return result.body.data.id;
}

export async function createProvider(client: ApiClient, provider = 'aws', uid = randomAwsUid(), alias?: string): Promise<string> {
  const result = await client.post('/api/v1/providers', { data: { type: 'providers', attributes: { provider, uid, ...(alias ? { alias } : {}) } } });
  expectStatus(result, 201, 'create provider');
  return result.body.data.id;
}

export async function createGroup(client: ApiClient, providerIds: string[] = [], label = 'group'): Promise<string> {
  const result = await client.post('/api/v1/provider-groups', {
    data: {
      type: 'provider-groups',
      attributes: { name: uniqueName(label) },
      relationships: { providers: { data: providerIds.map((id) => ({ type: 'providers', id })) } },
    },
  });
  expectStatus(result, 201, 'create provider group');
  return result.body.data.id;
}

export async function invite(admin: ApiClient, email: string, roleIds: string[]): Promise<{ id: string; token: string }> {
  const result = await admin.post('/api/v1/tenants/invitations', {
    data: { type: 'invitations', attributes: { email }, relationships: { roles: { data: roleIds.map((id) => ({ type: 'roles', id })) } } },
  });
  expectStatus(result, 201, 'invite');
  return { id: result.body.data.id, token: result.body.data.attributes.token };
}

export async function acceptInvitation(invitee: ApiClient, token: string) {
  return invitee.post('/api/v1/invitations/accept', { data: { type: 'invitations', attributes: { invitation_token: token } } });
}

/** A new user invited into the admin's tenant with these roles, signed in there. */
export async function inviteMember(baseUrl: string, admin: SignedUpUser, roleIds: string[], label = 'member'): Promise<Member> {
  const invitee = await signUp(baseUrl, label);
  const { token } = await invite(admin.client, invitee.email, roleIds);
  const accepted = await acceptInvitation(invitee.client, token);
  expectStatus(accepted, 201, 'accept invitation');
  const tokens = await signIn(baseUrl, invitee.email, invitee.password, admin.tenantId);
  return {
    client: new ApiClient(baseUrl, tokens.access),
    userId: invitee.userId,
    email: invitee.email,
    password: invitee.password,
    membershipId: accepted.body.data.id,
    ...tokens,
  };
}

/** A member whose only role holds exactly these permissions. */
export async function memberWith(baseUrl: string, admin: SignedUpUser, permissions: PermissionFlags, label = 'member', providerGroupIds: string[] = []): Promise<Member> {
  const roleId = await createRole(admin.client, permissions, label, providerGroupIds);
  return inviteMember(baseUrl, admin, [roleId], label);
}

export function allPermissions(): PermissionFlags {
  return Object.fromEntries(ALL_PERMISSIONS.map((p) => [p, true]));
}

/** Every permission but one: proves that one alone is what an endpoint needs. */
export function allBut(permission: string): PermissionFlags {
  return Object.fromEntries(ALL_PERMISSIONS.map((p) => [p, p !== permission]));
}

export function identifiers(type: string, ids: string[]) {
  return { data: ids.map((id) => ({ type, id })) };
}
