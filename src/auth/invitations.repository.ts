import type { EntityManager } from 'typeorm';
import { ParsedQuery, QuerySpec } from '../common/jsonapi/query-spec';
import { tenantManager } from '../database/tenant-context';
import { rows } from '../database/sql';
import { containsPattern, filterConditions, ListColumns, orderBy, pagedList, SqlParams } from '../rbac/list-query-sql';
import { InvitationRow, InvitationState } from './invitation.resource';
import { MembershipRow } from './tenant.resource';

const EFFECTIVE_STATE = `(CASE WHEN i.state = 'pending' AND i.expires_at <= now() THEN 'expired' ELSE i.state END)`;

const OWN_COLUMNS = `i.id, i.email, ${EFFECTIVE_STATE} AS state, i.expires_at, i.inserted_at, i.updated_at, i.inviter_id`;
const RELATED_COLUMNS = 'ARRAY(SELECT ir.role_id FROM invitation_roles ir WHERE ir.invitation_id = i.id ORDER BY ir.id) AS role_ids';
const INVITATION_COLUMNS = `${OWN_COLUMNS}, ${RELATED_COLUMNS}`;

const LIST_COLUMNS: ListColumns = {
  filters: {
    email: 'i.email',
    state: EFFECTIVE_STATE,
    inviter: 'i.inviter_id',
    expires_at: 'i.expires_at',
    inserted_at: 'i.inserted_at',
    updated_at: 'i.updated_at',
    search: (filter, params) => `i.email ILIKE ${params.add(containsPattern(String(filter.value)))}`,
  },
  sorts: { inserted_at: 'i.inserted_at', updated_at: 'i.updated_at', expires_at: 'i.expires_at', state: EFFECTIVE_STATE, inviter: 'i.inviter_id' },
  tieBreaker: 'i.id',
};

export async function listInvitations(query: ParsedQuery, spec: QuerySpec): Promise<{ rows: InvitationRow[]; count: number }> {
  const params = new SqlParams();
  return pagedList<InvitationRow>({
    from: 'invitations i',
    alias: 'i',
    columns: OWN_COLUMNS,
    related: RELATED_COLUMNS,
    where: filterConditions(query, spec, LIST_COLUMNS, params),
    order: orderBy(query.sort, LIST_COLUMNS),
    page: query.page,
    params,
  });
}

export type StoredInvitation = InvitationRow & { stored_state: InvitationState; token_envelope: string | null };

export async function findInvitation(id: string): Promise<StoredInvitation | undefined> {
  const found = await rows<StoredInvitation>(
    tenantManager(),
    `SELECT ${INVITATION_COLUMNS}, i.state AS stored_state, i.token_envelope FROM invitations i WHERE i.id = $1`,
    [id],
  );
  return found[0];
}

/** Whether the email already belongs to a member: the users policy shows only this tenant's members. */
export async function isMemberEmail(email: string): Promise<boolean> {
  const found = await rows(tenantManager(), `SELECT 1 FROM users WHERE lower(email) = lower($1)`, [email]);
  return found.length > 0;
}

export async function pendingInvitationExists(email: string, exceptId: string | null): Promise<boolean> {
  const found = await rows(
    tenantManager(),
    `SELECT 1 FROM invitations WHERE lower(email) = lower($1) AND state = 'pending' AND expires_at > now() AND id IS DISTINCT FROM $2`,
    [email, exceptId],
  );
  return found.length > 0;
}

export interface NewInvitation {
  id: string;
  tenantId: string;
  email: string;
  tokenHash: string;
  tokenEnvelope: string;
  expiresAt: Date;
  inviterId: string;
}

export async function insertInvitation(invitation: NewInvitation): Promise<void> {
  await tenantManager().query(
    `INSERT INTO invitations (id, tenant_id, email, token_hash, token_envelope, expires_at, inviter_id) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
    [invitation.id, invitation.tenantId, invitation.email, invitation.tokenHash, invitation.tokenEnvelope, invitation.expiresAt, invitation.inviterId],
  );
}

export async function updateInvitation(id: string, changes: { email?: string; expiresAt?: Date; state?: InvitationState }): Promise<void> {
  const params = new SqlParams();
  const assignments: string[] = [];
  if (changes.email !== undefined) assignments.push(`email = ${params.add(changes.email)}`);
  if (changes.expiresAt !== undefined) assignments.push(`expires_at = ${params.add(changes.expiresAt)}`);
  if (changes.state !== undefined) assignments.push(`state = ${params.add(changes.state)}`);
  if (assignments.length === 0) return;
  await tenantManager().query(`UPDATE invitations SET ${assignments.join(', ')}, updated_at = now() WHERE id = ${params.add(id)}`, params.values);
}

/*
 * Acceptance runs as the owner role (see InvitationsService.accept), so the
 * statements below take that transaction's manager and name the tenant
 * explicitly instead of relying on row-level security.
 */

export interface InvitationToAccept {
  id: string;
  tenant_id: string;
  state: InvitationState;
  expired: boolean;
  email_matches: boolean;
}

/** The invitation a token opens, locked until the transaction ends so two acceptances cannot race. */
export async function lockInvitationByToken(admin: EntityManager, tokenHash: string, userId: string): Promise<InvitationToAccept | undefined> {
  const found = await rows<InvitationToAccept>(
    admin,
    `SELECT i.id, i.tenant_id, i.state, i.expires_at <= now() AS expired,
            lower(i.email) = (SELECT lower(u.email) FROM users u WHERE u.id = $2 AND u.is_active AND u.email_verified_at IS NOT NULL) IS TRUE AS email_matches
       FROM invitations i JOIN tenants t ON t.id = i.tenant_id AND t.deleted_at IS NULL
      WHERE i.token_hash = $1
      FOR UPDATE OF i`,
    [tokenHash, userId],
  );
  return found[0];
}

export async function hasMembership(admin: EntityManager, tenantId: string, userId: string): Promise<boolean> {
  const found = await rows(admin, `SELECT 1 FROM memberships WHERE tenant_id = $1 AND user_id = $2`, [tenantId, userId]);
  return found.length > 0;
}

/** The roles the invitation grants, in the order they were given (roles deleted since are gone from it). */
export async function invitationRoleIds(admin: EntityManager, invitationId: string): Promise<string[]> {
  const found = await rows<{ role_id: string }>(admin, `SELECT role_id FROM invitation_roles WHERE invitation_id = $1 ORDER BY id`, [invitationId]);
  return found.map((row) => row.role_id);
}

export interface Acceptance {
  invitation: InvitationToAccept;
  userId: string;
  membershipId: string;
  /** Each granted role with the id of its new user_roles row, in grant order. */
  grants: Array<{ id: string; roleId: string }>;
}

/** The membership, the user's new roles, and the invitation marked accepted. */
export async function acceptInvitation(admin: EntityManager, acceptance: Acceptance): Promise<MembershipRow> {
  const { invitation, userId } = acceptance;
  const [membership] = await rows<MembershipRow>(
    admin,
    `INSERT INTO memberships (id, tenant_id, user_id, role) VALUES ($1, $2, $3, 'member')
     RETURNING id, tenant_id, user_id, role, date_joined`,
    [acceptance.membershipId, invitation.tenant_id, userId],
  );
  await admin.query(
    `INSERT INTO user_roles (id, tenant_id, user_id, role_id)
     SELECT grant_row.id, $1, $2, grant_row.role_id
       FROM unnest($3::uuid[], $4::uuid[]) WITH ORDINALITY AS grant_row (id, role_id, position)
      ORDER BY grant_row.position`,
    [invitation.tenant_id, userId, acceptance.grants.map((g) => g.id), acceptance.grants.map((g) => g.roleId)],
  );
  await admin.query(`UPDATE invitations SET state = 'accepted', updated_at = now() WHERE id = $1`, [invitation.id]);
  return membership;
}
