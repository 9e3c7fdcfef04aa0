import type { FastifyReply } from 'fastify';
import Redis from 'ioredis';
import { createHash } from 'node:crypto';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { ApiError } from '../common/errors/api-error';

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

  /** Takes one point of the key's budget; an exhausted budget answers 429 with Retry-After. */
  async consume(key: string, reply: FastifyReply): Promise<void> {
    try {
      await this.limiter.consume(key);
    } catch (result) {
      if (result instanceof RateLimiterRes) {
        reply.header('retry-after', String(Math.max(1, Math.ceil(result.msBeforeNext / 1000))));
        throw new ApiError(429, 'throttled', this.refusal);
      }
      throw result;
    }
  }
}

/**
 * An account's throttle key: the email as sign-in matches it (trimmed, case
 * folded), hashed so Redis holds no addresses.
 */
export function accountKey(email: string): string {
  return createHash('sha256').update(email.trim().toLowerCase(), 'utf8').digest('base64url');
}
