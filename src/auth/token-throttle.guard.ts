import { CanActivate, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import Redis from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { ApiError } from '../common/errors/api-error';
import { REDIS } from '../redis/redis.module';

/** Redis key prefix of the token budget; failed API key attempts count against it too. */
export const TOKEN_THROTTLE_KEY_PREFIX = 'throttle:tokens';

/**
 * Limits token requests per client address, counted in Redis so every API
 * process shares one budget. While Redis is unreachable each process falls
 * back to its own in-memory budget rather than letting requests through unchecked.
 */
@Injectable()
export class TokenThrottleGuard implements CanActivate {
  private readonly limiter: RateLimiterRedis;

  constructor(@Inject(APP_CONFIG) config: AppConfig, @Inject(REDIS) redis: Redis) {
    const budget = { points: config.throttle.tokenPoints, duration: config.throttle.tokenWindowSeconds };
    this.limiter = new RateLimiterRedis({
      storeClient: redis,
      keyPrefix: TOKEN_THROTTLE_KEY_PREFIX,
      ...budget,
      insuranceLimiter: new RateLimiterMemory(budget),
    });
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const http = context.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    const reply = http.getResponse<FastifyReply>();
    try {
      await this.limiter.consume(request.ip);
      return true;
    } catch (result) {
      if (result instanceof RateLimiterRes) {
        reply.header('retry-after', String(Math.max(1, Math.ceil(result.msBeforeNext / 1000))));
        throw new ApiError(429, 'throttled', 'Too many token requests; try again later.');
      }
      throw result;
    }
  }
}
