import { CanActivate, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import Redis from 'ioredis';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { REDIS } from '../redis/redis.module';
import { AccountThrottle, Throttle } from './throttle';

const REFUSAL = 'Too many token requests; try again later.';

/** Redis key prefix of the token budget; failed API key attempts count against it too. */
export const TOKEN_THROTTLE_KEY_PREFIX = 'throttle:tokens';

/**
 * Limits token requests per client address and, when the body names an
 * email, per account too: an attacker who can vary their address (a botnet,
 * or a proxy setting that trusts forged X-Forwarded-For hops) still gets only
 * the account's budget of password guesses.
 */
@Injectable()
export class TokenThrottleGuard implements CanActivate {
  private readonly perAddress: Throttle;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    @Inject(REDIS) redis: Redis,
    private readonly perAccount: AccountThrottle,
  ) {
    this.perAddress = new Throttle(redis, 'tokens', config.throttle.tokenPoints, config.throttle.tokenWindowSeconds, REFUSAL);
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const http = context.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    const reply = http.getResponse<FastifyReply>();
    await this.perAddress.consume(request.ip, reply);
    const email = bodyEmail(request.body);
    if (email !== undefined) await this.perAccount.consume(email, reply);
    return true;
  }
}

/** The email of a sign-in body, read before validation (a malformed body is refused later, by the handler). */
function bodyEmail(body: unknown): string | undefined {
  const email = (body as { data?: { attributes?: { email?: unknown } } } | undefined)?.data?.attributes?.email;
  return typeof email === 'string' && email.trim() !== '' ? email : undefined;
}
