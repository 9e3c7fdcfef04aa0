import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG } from '../config/config.module';
import { AppConfig } from '../config/app-config';
import { SecretCipher, SecretCipherError } from '../providers/secret-cipher';
import { ApiError } from '../common/errors/api-error';
import { ParsedQuery, QuerySpec } from '../common/jsonapi/query-spec';
import { currentPrincipal } from '../database/tenant-context';
import { TenantDatabase } from '../database/tenant-database';
import { newId } from '../database/uuid';
import { requireRolesHeld } from '../rbac/grant-checks';
import { INVITATION_ROLES, linkedTargets, replaceLinks } from '../rbac/link-table';
import { RelatedIds } from '../rbac/relationship-ids';
import { RolesService } from '../rbac/roles.service';
import { CreateInvitationAttributes, UpdateInvitationAttributes } from './invitation.dto';
import { invitationTokenHash, newInvitationToken } from './invitation-token';
import { InvitationRow } from './invitation.resource';
import {
  acceptInvitation,
  findInvitation,
  hasMembership,
  insertInvitation,
  invitationRoleIds,
  isMemberEmail,
  listInvitations,
  lockInvitationByToken,
  pendingInvitationExists,
  updateInvitation,
} from './invitations.repository';
import { MembershipRow } from './tenant.resource';

const DAY_MS = 24 * 60 * 60 * 1000;
/** An invitation's token works for seven days unless the inviter sets an earlier expiry. */
const MAX_VALIDITY_MS = 7 * DAY_MS;
/** An expiry chosen by the inviter leaves the invitee at least a day. */
const MIN_VALIDITY_MS = DAY_MS;

const EMAIL_POINTER = { pointer: '/data/attributes/email' };

/**
 * Inviting someone into the tenant with a set of roles. Accepting looks the
 * invitation up by its token's SHA-256 hash. As Prowler does, the detail of a
 * pending invitation shows the token (its web UI builds the invite link from
 * it): the token is kept encrypted with the secrets keyring, bound to the
 * tenant and invitation, and shown only while the invitation is pending.
 */
@Injectable()
export class InvitationsService {
  private readonly cipher: SecretCipher;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly database: TenantDatabase,
    private readonly roles: RolesService,
  ) {
    this.cipher = SecretCipher.fromEnv(config.secretsEncryptionKey);
  }

  list(query: ParsedQuery, spec: QuerySpec): Promise<{ rows: InvitationRow[]; count: number }> {
    return listInvitations(query, spec);
  }

  async get(id: string): Promise<InvitationRow> {
    const invitation = await findInvitation(id);
    if (!invitation) throw ApiError.notFound();
    const { token_envelope: envelope, stored_state: _stored, ...row } = invitation;
    if (row.state !== 'pending' || envelope === null) return row;
    try {
      const { token } = this.cipher.decrypt(envelope, tokenAad(currentPrincipal().tenantId, id)) as { token: string };
      return { ...row, token };
    } catch (error) {
      // An envelope that does not open here (altered, or its key gone from the keyring) shows no token.
      if (error instanceof SecretCipherError) return row;
      throw error;
    }
  }

  async create(attributes: CreateInvitationAttributes, roles: RelatedIds): Promise<InvitationRow> {
    const email = attributes.email.trim();
    await this.checkInvitee(email, null);
    await this.roles.requireRoles(roles.ids, roles.pointerOf);
    await requireRolesHeld(roles.ids, roles.pointerOf);
    const id = newId();
    const token = newInvitationToken();
    const principal = currentPrincipal();
    await insertInvitation({
      id,
      tenantId: principal.tenantId,
      email,
      tokenHash: invitationTokenHash(token),
      tokenEnvelope: this.cipher.encrypt({ token }, tokenAad(principal.tenantId, id)),
      expiresAt: chosenExpiry(attributes.expires_at),
      inviterId: principal.userId,
    });
    await replaceLinks(INVITATION_ROLES, id, roles.ids);
    return this.get(id);
  }

  /** Only a pending invitation changes; one past its expiry may get a new one. */
  async update(id: string, attributes: UpdateInvitationAttributes, roles: RelatedIds | undefined): Promise<InvitationRow> {
    const invitation = await findInvitation(id);
    if (!invitation) throw ApiError.notFound();
    if (invitation.stored_state !== 'pending') throw notPending(invitation.stored_state);
    const email = attributes.email?.trim();
    if (email !== undefined) await this.checkInvitee(email, id);
    if (roles) {
      await this.roles.requireRoles(roles.ids, roles.pointerOf);
      await requireRolesHeld(roles.ids, roles.pointerOf, new Set(await linkedTargets(INVITATION_ROLES, id)));
      await replaceLinks(INVITATION_ROLES, id, roles.ids);
    }
    await updateInvitation(id, { email, expiresAt: attributes.expires_at === undefined ? undefined : chosenExpiry(attributes.expires_at) });
    return this.get(id);
  }

  async revoke(id: string): Promise<void> {
    const invitation = await findInvitation(id);
    if (!invitation) throw ApiError.notFound();
    if (invitation.stored_state !== 'pending') throw notPending(invitation.stored_state);
    await updateInvitation(id, { state: 'revoked' });
  }

  /**
   * Makes the caller a member of the inviting tenant with the invitation's
   * roles. The caller is signed in to another tenant (their own), and the
   * invitation lives in the inviting tenant, where they have no membership
   * yet: no tenant transaction can see both, so this is a named cross-tenant
   * write as the owner role, keyed by the token's hash and the caller's id.
   */
  accept(userId: string, token: string): Promise<MembershipRow> {
    return this.database.adminTransaction(async (admin) => {
      const invitation = await lockInvitationByToken(admin, invitationTokenHash(token), userId);
      // A wrong token and someone else's invitation answer alike, so neither can be probed.
      if (!invitation || !invitation.email_matches) {
        throw new ApiError(404, 'not_found', 'This invitation is not valid.', { pointer: '/data/attributes/invitation_token' });
      }
      if (invitation.state !== 'pending') throw notPending(invitation.state);
      if (invitation.expired) {
        throw ApiError.badRequest('invitation_expired', 'This invitation has expired; ask for a new one.', { pointer: '/data/attributes/invitation_token' });
      }
      if (await hasMembership(admin, invitation.tenant_id, userId)) {
        throw ApiError.conflict('already_member', 'You are already a member of this tenant.', { pointer: '/data/attributes/invitation_token' });
      }
      const roleIds = await invitationRoleIds(admin, invitation.id);
      return acceptInvitation(admin, {
        invitation,
        userId,
        membershipId: newId(),
        grants: roleIds.map((roleId) => ({ id: newId(), roleId })),
      });
    });
  }

  private async checkInvitee(email: string, invitationId: string | null): Promise<void> {
    if (await isMemberEmail(email)) throw ApiError.conflict('already_member', 'A user with this email is already a member of the tenant.', EMAIL_POINTER);
    if (await pendingInvitationExists(email, invitationId)) {
      throw ApiError.conflict('already_invited', 'A pending invitation for this email already exists.', EMAIL_POINTER);
    }
  }
}

function chosenExpiry(expiresAt: string | undefined): Date {
  const now = Date.now();
  if (expiresAt === undefined) return new Date(now + MAX_VALIDITY_MS);
  const chosen = new Date(expiresAt);
  if (Number.isNaN(chosen.getTime()) || chosen.getTime() < now + MIN_VALIDITY_MS || chosen.getTime() > now + MAX_VALIDITY_MS) {
    throw ApiError.badRequest('invalid', 'expires_at must be between 24 hours and 7 days from now.', { pointer: '/data/attributes/expires_at' });
  }
  return chosen;
}

function notPending(state: string): ApiError {
  return ApiError.badRequest('invalid_state', `This invitation is ${state}; only a pending invitation can change or be used.`);
}

/** Binds a token's envelope to its tenant and invitation: copied to another row, it does not decrypt. */
function tokenAad(tenantId: string, invitationId: string): string {
  return `invitation-token:${tenantId}:${invitationId}`;
}
