import { CanActivate, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import Redis from 'ioredis';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { REDIS } from '../redis/redis.module';
import { Throttle } from './throttle';

/** Sign-ups per client address: each one costs an argon2 hash, a tenant and a mail. */
@Injectable()
export class SignUpThrottleGuard implements CanActivate {
  private readonly perAddress: Throttle;

  constructor(@Inject(APP_CONFIG) config: AppConfig, @Inject(REDIS) redis: Redis) {
    this.perAddress = new Throttle(redis, 'sign-up', config.throttle.signUpPoints, config.throttle.signUpWindowSeconds, 'Too many sign-ups from this address; try again later.');
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const http = context.switchToHttp();
    await this.perAddress.consume(http.getRequest<FastifyRequest>().ip, http.getResponse<FastifyReply>());
    return true;
  }
}
