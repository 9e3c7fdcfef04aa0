import { Inject, Injectable } from '@nestjs/common';
import Redis from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { AuthenticatedUser } from '../auth/authenticated-user';
import { TOKEN_THROTTLE_KEY_PREFIX } from '../auth/token-throttle.guard';
import { ApiError } from '../common/errors/api-error';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { TenantDatabase } from '../database/tenant-database';
import { REDIS } from '../redis/redis.module';
import { parseApiKeyHeader, secretMatches } from './api-key-secret';
import { ApiKeyUsage } from './api-key-usage';

/** What never changes for a key once created, so a process may keep it. */
interface KnownKey {
  id: string;
  tenantId: string;
  userId: string;
  salt: Buffer;
  hash: Buffer;
  expiresAt: Date | null;
}

interface KeyRow {
  id: string;
  tenant_id: string;
  user_id: string;
  salt: Buffer;
  key_hash: Buffer;
  expires_at: Date | null;
  revoked: boolean;
}

const KNOWN_KEYS_MAX = 10_000;
const INVALID_KEY = new ApiError(401, 'api_key_not_valid', 'The API key is not valid, expired or revoked.');

/**
 * Turns `Authorization: Api-Key <key>` into the caller. The row is found by
 * the key's prefix with a named owner-role query, since no tenant is known
 * yet; its unchanging facts (tenant, user, salt, hash, expiry) are then kept
 * in memory, so a later request by the same key costs no round trip of its
 * own. Whether the key is still live (not revoked, not expired, its user
 * still a member) is checked inside every request's transaction, with the
 * principal query (see PrincipalLoader.openingStatement).
 *
 * Failed attempts count against the token endpoints' budget per client
 * address; while it is spent, a key that is not already known is refused
 * with 429 before any look-up.
 */
@Injectable()
export class ApiKeyAuthenticator {
  private readonly known = new Map<string, KnownKey>();
  private readonly limiter: RateLimiterRedis;
  private readonly points: number;

  constructor(
    private readonly database: TenantDatabase,
    private readonly usage: ApiKeyUsage,
    @Inject(APP_CONFIG) config: AppConfig,
    @Inject(REDIS) redis: Redis,
  ) {
    const budget = { points: config.throttle.tokenPoints, duration: config.throttle.tokenWindowSeconds };
    this.points = budget.points;
    this.limiter = new RateLimiterRedis({
      storeClient: redis,
      keyPrefix: TOKEN_THROTTLE_KEY_PREFIX,
      ...budget,
      insuranceLimiter: new RateLimiterMemory(budget),
    });
  }

  async authenticate(header: string, clientAddress: string): Promise<AuthenticatedUser> {
    const presented = parseApiKeyHeader(header);
    const cached = presented ? this.known.get(presented.prefix) : undefined;
    if (presented && cached && this.accepts(cached, presented.secret)) return this.caller(cached);

    await this.refuseWhileThrottled(clientAddress);
    const found = presented && !cached ? await this.lookUp(presented.prefix) : undefined;
    if (presented && found && this.accepts(found, presented.secret)) {
      this.remember(presented.prefix, found);
      return this.caller(found);
    }
    await this.countFailure(clientAddress);
    throw INVALID_KEY;
  }

  /** Forgets a key this process knows (after a revocation here; other processes re-check liveness per request anyway). */
  forget(prefix: string): void {
    this.known.delete(prefix);
  }

  private accepts(key: KnownKey, secret: string): boolean {
    const matches = secretMatches(key.salt, key.hash, secret);
    return matches && (key.expiresAt === null || key.expiresAt.getTime() > Date.now());
  }

  private caller(key: KnownKey): AuthenticatedUser {
    this.usage.record(key.id);
    return { userId: key.userId, tenantId: key.tenantId, tokenId: `api-key:${key.id}`, apiKeyId: key.id };
  }

  private async lookUp(prefix: string): Promise<KnownKey | undefined> {
    // Cross-tenant by design, like sign-in: the key is how the tenant is found.
    const sql = `SELECT id, tenant_id, user_id, salt, key_hash, expires_at, revoked FROM api_keys WHERE prefix = $1`;
    let [row] = await this.database.adminReadQuery<KeyRow>(sql, [prefix]);
    // A key created a moment ago may not have reached a lagging replica yet; the primary settles it.
    if (!row && this.database.readsReplica) [row] = await this.database.adminQuery<KeyRow>(sql, [prefix]);
    if (!row || row.revoked) return undefined;
    return { id: row.id, tenantId: row.tenant_id, userId: row.user_id, salt: row.salt, hash: row.key_hash, expiresAt: row.expires_at };
  }

  private remember(prefix: string, key: KnownKey): void {
    if (this.known.size >= KNOWN_KEYS_MAX) this.known.delete(this.known.keys().next().value as string);
    this.known.set(prefix, key);
  }

  private async refuseWhileThrottled(clientAddress: string): Promise<void> {
    const state = await this.limiter.get(clientAddress).catch(() => null);
    if (state && state.consumedPoints >= this.points) throw throttled(state);
  }

  private async countFailure(clientAddress: string): Promise<void> {
    try {
      await this.limiter.consume(clientAddress);
    } catch (result) {
      if (result instanceof RateLimiterRes) throw throttled(result);
      throw result;
    }
  }
}

/** A 429 that knows when the budget refills, for the Retry-After header. */
export class ThrottledError extends ApiError {
  constructor(readonly retryAfterSeconds: number) {
    super(429, 'throttled', 'Too many failed attempts; try again later.');
  }
}

function throttled(state: RateLimiterRes): ThrottledError {
  return new ThrottledError(Math.max(1, Math.ceil(state.msBeforeNext / 1000)));
}
