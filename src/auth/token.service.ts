import { Inject, Injectable } from '@nestjs/common';
import jwt from 'jsonwebtoken';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { ApiError } from '../common/errors/api-error';
import { ReplicaRouter } from '../database/replica-router';
import { TenantDatabase } from '../database/tenant-database';
import { rows } from '../database/sql';
import { isUuid, newId } from '../database/uuid';
import { jwtKeys } from './jwt-keys';

export const ACCESS_TOKEN_TYPE = 'access';
export const REFRESH_TOKEN_TYPE = 'refresh';

export interface TokenPair {
  access: string;
  refresh: string;
}

interface RefreshClaims {
  sub: string;
  tenant_id: string;
  jti: string;
  fam: string;
}

/**
 * Issues access tokens (stateless, short) and refresh tokens (one row each,
 * single use). Refreshing consumes the row and issues the next one of the
 * same family; presenting a consumed token again revokes the whole family,
 * since only a stolen copy can be replayed.
 */
@Injectable()
export class TokenService {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly database: TenantDatabase,
    private readonly router: ReplicaRouter,
  ) {}

  async issuePair(userId: string, tenantId: string, familyId: string = newId()): Promise<TokenPair> {
    const refreshId = newId();
    const expiresAt = new Date(Date.now() + this.config.jwt.refreshTtlSeconds * 1000);
    // Its commit follows whatever made this user a member (a sign-up a moment ago): reads with the new token see both.
    await this.router.writingAs(userId, tenantId, () =>
      this.database.transaction(tenantId, async (m) => {
        await m.query(
          `INSERT INTO refresh_tokens (id, tenant_id, user_id, family_id, expires_at) VALUES ($1, $2, $3, $4, $5)`,
          [refreshId, tenantId, userId, familyId, expiresAt],
        );
      }),
    );
    return {
      access: this.sign({ sub: userId, tenant_id: tenantId, typ: ACCESS_TOKEN_TYPE }, newId(), this.config.jwt.accessTtlSeconds),
      refresh: this.sign({ sub: userId, tenant_id: tenantId, typ: REFRESH_TOKEN_TYPE, fam: familyId }, refreshId, this.config.jwt.refreshTtlSeconds),
    };
  }

  async refresh(token: string): Promise<TokenPair> {
    const claims = this.verifyRefresh(token);
    const outcome = await this.database.transaction(claims.tenant_id, async (m) => {
      const consumed = await rows<{ user_id: string }>(
        m,
        `UPDATE refresh_tokens SET used_at = now()
          WHERE id = $1 AND user_id = $2 AND used_at IS NULL AND revoked_at IS NULL AND expires_at > now()
          RETURNING user_id`,
        [claims.jti, claims.sub],
      );
      if (consumed.length === 0) {
        // Reuse or revocation: close the family so the other copy stops working too.
        await m.query(`UPDATE refresh_tokens SET revoked_at = now() WHERE family_id = $1 AND revoked_at IS NULL`, [claims.fam]);
        return 'refused' as const;
      }
      const member: unknown[] = await m.query(
        `SELECT 1 FROM memberships m JOIN tenants t ON t.id = m.tenant_id AND t.deleted_at IS NULL WHERE m.user_id = $1`,
        [claims.sub],
      );
      return member.length > 0 ? ('ok' as const) : ('refused' as const);
    });
    if (outcome !== 'ok') throw new ApiError(401, 'token_not_valid', 'The refresh token is not valid or was already used.');
    return this.issuePair(claims.sub, claims.tenant_id, claims.fam);
  }

  /** Ends every session of a user in a tenant, e.g. when their membership is removed. */
  async revokeUserSessions(userId: string, tenantId: string): Promise<void> {
    await this.database.transaction(tenantId, async (m) => {
      await m.query(`UPDATE refresh_tokens SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL`, [userId]);
    });
  }

  /**
   * Ends every session of a user in every tenant: all refresh token families.
   * A named owner-role write keyed by the user's own id, since their sessions
   * live in each tenant they belong to (used when the password changes).
   */
  async revokeAllSessionsOfUser(userId: string): Promise<void> {
    await this.database.adminQuery(`UPDATE refresh_tokens SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL`, [userId]);
  }

  private sign(claims: Record<string, unknown>, jwtid: string, expiresIn: number): string {
    return jwt.sign(claims, jwtKeys(this.config.jwt).sign, {
      algorithm: this.config.jwt.algorithm,
      expiresIn,
      issuer: this.config.jwt.issuer,
      audience: this.config.jwt.audience,
      jwtid,
    });
  }

  private verifyRefresh(token: string): RefreshClaims {
    try {
      const claims = jwt.verify(token, jwtKeys(this.config.jwt).verify, {
        algorithms: [this.config.jwt.algorithm],
        issuer: this.config.jwt.issuer,
        audience: this.config.jwt.audience,
      }) as Record<string, unknown>;
      if (claims.typ !== REFRESH_TOKEN_TYPE || !isUuid(claims.sub) || !isUuid(claims.tenant_id) || !isUuid(claims.jti) || !isUuid(claims.fam)) {
        throw new Error('not a refresh token');
      }
      return claims as unknown as RefreshClaims;
    } catch {
      throw new ApiError(401, 'token_not_valid', 'The refresh token is not valid or was already used.');
    }
  }
}
