import { Inject, Injectable } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { ApiError } from '../common/errors/api-error';
import { TenantDatabase } from '../database/tenant-database';
import { verifyPassword } from './password';
import { TokenPair, TokenService } from './token.service';

const INVALID_CREDENTIALS = new ApiError(401, 'invalid_credentials', 'No active account found with the given credentials.');

/** Sign-in and tenant switching: the only places that read memberships across tenants. */
@Injectable()
export class SignInService {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly database: TenantDatabase,
    private readonly tokens: TokenService,
  ) {}

  async signIn(email: string, password: string, requestedTenantId?: string): Promise<TokenPair> {
    // Cross-tenant look-up by design: the caller has no tenant until this succeeds.
    const users = await this.database.adminQuery<{ id: string; password: string; is_active: boolean; verified: boolean }>(
      `SELECT id, password, is_active, email_verified_at IS NOT NULL AS verified FROM users WHERE lower(email) = lower($1)`,
      [email.trim()],
    );
    const user = users[0];
    const valid = await verifyPassword(user?.password, password);
    if (!user || !valid || !user.is_active) throw INVALID_CREDENTIALS;
    // Said only to whoever knows the password, so it reveals nothing to a guesser.
    if (this.config.email.verificationRequired && !user.verified) {
      throw new ApiError(403, 'email_not_verified', 'Confirm your email address first, with the token mailed to it (POST /api/v1/email-verifications).');
    }
    const tenantId = await this.pickTenant(user.id, requestedTenantId);
    return this.tokens.issuePair(user.id, tenantId);
  }

  async switchTenant(userId: string, tenantId: string): Promise<TokenPair> {
    const chosen = await this.pickTenant(userId, tenantId);
    return this.tokens.issuePair(userId, chosen);
  }

  /** The requested tenant if the user belongs to it, else the first membership the user got. */
  private async pickTenant(userId: string, requestedTenantId?: string): Promise<string> {
    const memberships = await this.database.adminQuery<{ tenant_id: string }>(
      `SELECT m.tenant_id FROM memberships m JOIN tenants t ON t.id = m.tenant_id AND t.deleted_at IS NULL
        WHERE m.user_id = $1 ORDER BY m.date_joined, m.id`,
      [userId],
    );
    if (requestedTenantId) {
      const match = memberships.find((m) => m.tenant_id === requestedTenantId.toLowerCase());
      if (!match) throw ApiError.badRequest('invalid', 'You do not belong to this tenant.', { pointer: '/data/attributes/tenant_id' });
      return match.tenant_id;
    }
    if (memberships.length === 0) throw INVALID_CREDENTIALS;
    return memberships[0].tenant_id;
  }
}
