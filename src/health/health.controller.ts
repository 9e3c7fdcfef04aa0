import { Controller, Get, HttpCode, Inject } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import Redis from 'ioredis';
import { ApiError } from '../common/errors/api-error';
import { TenantDatabase } from '../database/tenant-database';
import { Public } from '../auth/public.decorator';
import { REDIS } from '../redis/redis.module';

@ApiExcludeController()
@Public()
@Controller('health')
export class HealthController {
  constructor(private readonly database: TenantDatabase, @Inject(REDIS) private readonly redis: Redis) {}

  @Get('live')
  @HttpCode(200)
  live() {
    return { status: 'ok' };
  }

  @Get('ready')
  async ready() {
    const [database, redis] = await Promise.all([
      this.database.ping().then(() => 'ok', () => 'unavailable'),
      this.redis.ping().then(() => 'ok', () => 'unavailable'),
    ]);
    if (database !== 'ok' || redis !== 'ok') {
      throw new ApiError(503, 'not_ready', `database: ${database}, redis: ${redis}`);
    }
    return { status: 'ok', database, redis };
  }
}
