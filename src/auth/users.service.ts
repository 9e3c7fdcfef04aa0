import { Injectable } from '@nestjs/common';
import { ApiError } from '../common/errors/api-error';
import { ParsedQuery, QuerySpec } from '../common/jsonapi/query-spec';
import { rows } from '../database/sql';
import { currentPrincipal, tenantManager } from '../database/tenant-context';
import { TenantDatabase } from '../database/tenant-database';
import { newId } from '../database/uuid';
import { listUserMemberships, MEMBERSHIP_COLUMNS } from './memberships.repository';
import { EmailVerificationService } from './email-verification.service';
import { checkPasswordPolicy, hashPassword, verifyPassword } from './password';
import { listTenantUsers } from './tenant-users.repository';
import { createTenantWithOwner } from './tenant-provisioning';
import { MembershipRow } from './tenant.resource';
import { SignUpAttributes, UpdateUserAttributes } from './user.dto';
import { UserRow } from './user.resource';
import { AccountThrottle } from './throttle';
import { TokenService } from './token.service';
import { findCredentials, findUser, updateUser } from './users.repository';

@Injectable()
export class UsersService {
  constructor(
    private readonly database: TenantDatabase,
    private readonly verification: EmailVerificationService,
    private readonly tokens: TokenService,
    private readonly guesses: AccountThrottle,
  ) {}

  /**
   * Sign-up: the user, their own tenant, an owner membership and an admin
   * role, all or nothing. An address that already has an account gets the
   * same answer as a new one (a made-up user nobody can sign in as), and its
   * owner gets a mail instead, so the answer never tells who is registered.
   * With verification required, the new address is mailed a proof and
   * sign-in waits for it; without, the address is taken as given.
   */
  async signUp(attributes: SignUpAttributes): Promise<UserRow> {
    const email = attributes.email.trim();
    checkPasswordPolicy(attributes.password, email);
    const passwordHash = await hashPassword(attributes.password);
    const userId = newId();
    const required = this.verification.required;
    const outcome = await this.database
      .adminTransaction(async (admin) => {
        const [existing] = await rows<{ id: string; email: string; verified: boolean }>(
          admin,
          `SELECT id, email, email_verified_at IS NOT NULL AS verified FROM users WHERE lower(email) = lower($1)`,
          [email],
        );
        if (existing) {
          // Signing up again with an address still waiting for its proof sends a fresh one to it.
          const mail = existing.verified ? this.verification.signUpAttemptMail(existing.email) : await this.verification.issue(admin, existing.id, existing.email, 'sign_up');
          return { created: false as const, mail };
        }
        await admin.query(
          `INSERT INTO users (id, name, email, password, company_name, email_verified_at) VALUES ($1, $2, $3, $4, $5, ${required ? 'NULL' : 'now()'})`,
          [userId, attributes.name, email, passwordHash, attributes.company_name ?? null],
        );
        const tenantId = await createTenantWithOwner(admin, userId, attributes.company_name || `${attributes.name}'s tenant`.slice(0, 100));
        const mail = required ? await this.verification.issue(admin, userId, email, 'sign_up') : undefined;
        return { created: true as const, tenantId, mail };
      })
      .catch((error: { driverError?: { code?: string; constraint?: string } }) => {
        // A concurrent sign-up took the address between the check and the insert: answer as for a taken one.
        if (error.driverError?.code === '23505' && error.driverError.constraint === 'users_email_unique') {
          return { created: false as const, mail: this.verification.signUpAttemptMail(email) };
        }
        throw error;
      });
    if (outcome.mail) await this.verification.sendQuietly(outcome.mail);
    if (!outcome.created) return unsavedUser(attributes, email);
    const user = await this.database.transaction(outcome.tenantId, () => findUser(userId), { readOnly: false });
    if (!user) throw new Error('The user just created is not visible in its tenant');
    return user;
  }

  /** Yourself, with your memberships in every live tenant you belong to (the tenant switcher reads them). */
  async me(): Promise<UserRow> {
    const userId = currentPrincipal().userId;
    const user = await findUser(userId);
    if (!user) throw ApiError.notFound();
    const own = await this.database.adminReadQuery<{ id: string }>(
      `SELECT m.id FROM memberships m JOIN tenants t ON t.id = m.tenant_id AND t.deleted_at IS NULL
        WHERE m.user_id = $1 ORDER BY m.date_joined, m.id`,
      [userId],
    );
    return { ...user, membership_ids: own.map((m) => m.id) };
  }

  list(query: ParsedQuery, spec: QuerySpec): Promise<{ rows: UserRow[]; count: number }> {
    return listTenantUsers(query, spec);
  }

  /** Anyone may read their own user; reading another member needs manage_users (checked after existence, so a stranger stays 404). */
  async get(id: string): Promise<UserRow> {
    const user = await findUser(id);
    if (!user) throw ApiError.notFound();
    const principal = currentPrincipal();
    if (id !== principal.userId && !principal.permissions.has('manage_users')) {
      throw ApiError.forbidden("Reading another user needs the 'manage_users' permission.");
    }
    return user;
  }

  /**
   * Your own memberships in every tenant you belong to (a named cross-tenant
   * read keyed by your own id, as for the tenants list); another member's, with
   * manage_users, only in the current tenant.
   */
  async memberships(userId: string, query: ParsedQuery, spec: QuerySpec): Promise<{ rows: MembershipRow[]; count: number }> {
    await this.get(userId);
    if (userId !== currentPrincipal().userId) return listUserMemberships(userId, query, spec);
    return listUserMemberships(userId, query, spec, <T>(sql: string, params: unknown[]) => this.database.adminReadQuery<T>(sql, params));
  }

  /** One membership of a user, under the same rules as the list: your own in any live tenant, another's here (needs manage_users). */
  async membership(userId: string, membershipId: string): Promise<MembershipRow> {
    await this.get(userId);
    const sql = `SELECT ${MEMBERSHIP_COLUMNS} FROM memberships m JOIN tenants t ON t.id = m.tenant_id AND t.deleted_at IS NULL
                  WHERE m.id = $1 AND m.user_id = $2`;
    const found =
      userId === currentPrincipal().userId
        ? await this.database.adminReadQuery<MembershipRow>(sql, [membershipId, userId])
        : await rows<MembershipRow>(tenantManager(), sql, [membershipId, userId]);
    if (!found[0]) throw ApiError.notFound();
    return found[0];
  }

  /**
   * Deletes your own user, as Prowler allows it (manage_users, yourself
   * only), with your memberships and sessions in every tenant. Refused while
   * you are the only owner of a live tenant, which would be left without one:
   * delete that tenant or make another member its owner first. The owner
   * memberships of your tenants are locked, so two owners leaving at once
   * cannot both go.
   */
  async deleteSelf(id: string): Promise<void> {
    if (id !== currentPrincipal().userId) {
      if (!(await findUser(id))) throw ApiError.notFound();
      throw ApiError.forbidden('You can delete only your own user.');
    }
    await this.database.adminTransaction(async (admin) => {
      await admin.query(
        `SELECT o.id FROM memberships o WHERE o.role = 'owner' AND o.tenant_id IN (SELECT m.tenant_id FROM memberships m WHERE m.user_id = $1)
          ORDER BY o.id FOR UPDATE`,
        [id],
      );
      const soleOwner: unknown[] = await admin.query(
        `SELECT 1 FROM memberships m JOIN tenants t ON t.id = m.tenant_id AND t.deleted_at IS NULL
          WHERE m.user_id = $1 AND m.role = 'owner'
            AND NOT EXISTS (SELECT 1 FROM memberships o WHERE o.tenant_id = m.tenant_id AND o.role = 'owner' AND o.user_id <> $1)
          LIMIT 1`,
        [id],
      );
      if (soleOwner.length > 0) {
        throw ApiError.conflict('last_owner', 'You are the only owner of a tenant: delete it or make another member its owner first.');
      }
      await admin.query(`DELETE FROM users WHERE id = $1`, [id]);
    });
  }

  /**
   * Users change only their own profile. A new password or a new address
   * needs the current password, so a stolen access token alone cannot take
   * the account. A new password ends every session of the user (all refresh
   * token families, in every tenant). A new address does not change the user
   * row: a proof is mailed to it, and the change happens when it is confirmed.
   */
  async updateSelf(id: string, attributes: UpdateUserAttributes): Promise<{ user: UserRow; verificationSentTo?: string }> {
    const principal = currentPrincipal();
    if (id !== principal.userId) {
      if (!(await findUser(id))) throw ApiError.notFound();
      throw ApiError.forbidden('You can change only your own user.');
    }
    const credentials = await findCredentials(id);
    if (!credentials) throw ApiError.notFound();
    const newEmail = attributes.email?.trim();
    const emailChange = newEmail !== undefined && newEmail.toLowerCase() !== credentials.email.toLowerCase() ? newEmail : undefined;
    if (attributes.password !== undefined || emailChange !== undefined) {
      // A thief with an access token guesses the password here: the account's sign-in budget applies.
      if (attributes.current_password !== undefined) await this.guesses.consume(credentials.email);
      await requireCurrentPassword(credentials.password, attributes.current_password);
    }

    const changes: Parameters<typeof updateUser>[1] = {};
    if (attributes.name !== undefined) changes.name = attributes.name;
    if (attributes.company_name !== undefined) changes.company_name = attributes.company_name;
    if (attributes.password !== undefined) {
      checkPasswordPolicy(attributes.password, emailChange ?? credentials.email);
      changes.password = await hashPassword(attributes.password);
    }
    await updateUser(id, changes);
    if (changes.password !== undefined) await this.tokens.revokeAllSessionsOfUser(id);
    if (emailChange !== undefined) {
      // Sent before the transaction commits: a mail that cannot go out leaves no proof behind.
      await this.verification.send(await this.verification.issue(tenantManager(), id, emailChange, 'change'));
    }
    return { user: await this.get(id), verificationSentTo: emailChange };
  }
}

/** Re-authentication for a sensitive change. */
async function requireCurrentPassword(stored: string, candidate: string | undefined): Promise<void> {
  if (candidate === undefined) {
    throw ApiError.badRequest('current_password_required', 'Changing the password or the email needs current_password.', { pointer: '/data/attributes/current_password' });
  }
  if (!(await verifyPassword(stored, candidate))) {
    throw new ApiError(403, 'current_password_invalid', 'The current password is not correct.', { pointer: '/data/attributes/current_password' });
  }
}

/** What a sign-up with a taken address answers: the shape of a new user, with ids that exist nowhere. */
function unsavedUser(attributes: SignUpAttributes, email: string): UserRow {
  const membershipId = newId();
  return {
    id: newId(),
    name: attributes.name,
    email,
    company_name: attributes.company_name ?? null,
    date_joined: new Date(),
    membership_ids: [membershipId],
    active_membership_id: membershipId,
    role_ids: [newId()],
  };
}
