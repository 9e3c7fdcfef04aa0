import { Inject, Injectable } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import Redis from 'ioredis';
import { createHash } from 'node:crypto';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { ApiError } from '../common/errors/api-error';
import { REDIS } from '../redis/redis.module';

/**
 * One budget of requests per key and window, counted in Redis so every API
 * process shares it. While Redis is unreachable each process falls back to
 * its own in-memory budget rather than letting requests through unchecked.
 */
export class Throttle {
  private readonly limiter: RateLimiterRedis;

  constructor(redis: Redis, name: string, points: number, windowSeconds: number, private readonly refusal: string) {
    const budget = { points, duration: windowSeconds };
    this.limiter = new RateLimiterRedis({
      storeClient: redis,
      keyPrefix: `throttle:${name}`,
      ...budget,
      insuranceLimiter: new RateLimiterMemory(budget),
    });
  }

  /** Takes one point of the key's budget; an exhausted budget answers 429 (with Retry-After when there is a reply to set it on). */
  async consume(key: string, reply?: FastifyReply): Promise<void> {
    try {
      await this.limiter.consume(key);
    } catch (result) {
      if (result instanceof RateLimiterRes) {
        reply?.header('retry-after', String(Math.max(1, Math.ceil(result.msBeforeNext / 1000))));
        throw new ApiError(429, 'throttled', this.refusal);
      }
      throw result;
    }
  }
}

/**
 * Password guesses per account, whatever the address: sign-in attempts
 * naming the account, and current-password checks made with one of its
 * access tokens, draw on one budget.
 */
@Injectable()
export class AccountThrottle {
  private readonly throttle: Throttle;

  constructor(@Inject(APP_CONFIG) config: AppConfig, @Inject(REDIS) redis: Redis) {
    const { tokenAccountPoints, tokenWindowSeconds } = config.throttle;
    this.throttle = new Throttle(redis, 'tokens-account', tokenAccountPoints, tokenWindowSeconds, 'Too many password attempts for this account; try again later.');
  }

  consume(email: string, reply?: FastifyReply): Promise<void> {
    return this.throttle.consume(accountKey(email), reply);
  }
}

/**
 * An account's throttle key: the email as sign-in matches it (trimmed, case
 * folded), hashed so Redis holds no addresses.
 */
function accountKey(email: string): string {
  return createHash('sha256').update(email.trim().toLowerCase(), 'utf8').digest('base64url');
}
