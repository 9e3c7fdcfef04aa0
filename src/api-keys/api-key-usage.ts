import { BeforeApplicationShutdown, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { TenantDatabase } from '../database/tenant-database';

/** At most one write per key per process in this interval. */
export const API_KEY_USAGE_FLUSH_MS = 60_000;

/**
 * Keeps `last_used_at` without a write (or a row lock) per request: uses are
 * noted in memory and written in one statement per interval, and once more
 * on shutdown. Several processes may note the same key; GREATEST keeps the
 * latest time whichever flushes last.
 */
@Injectable()
export class ApiKeyUsage implements OnModuleInit, BeforeApplicationShutdown {
  private readonly logger = new Logger(ApiKeyUsage.name);
  private pending = new Map<string, Date>();
  private timer?: NodeJS.Timeout;

  constructor(private readonly database: TenantDatabase) {}

  onModuleInit(): void {
    this.timer = setInterval(() => void this.flush(), API_KEY_USAGE_FLUSH_MS);
    this.timer.unref();
  }

  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }

  record(keyId: string): void {
    this.pending.set(keyId, new Date());
  }

  async flush(): Promise<void> {
    if (this.pending.size === 0) return;
    const batch = this.pending;
    this.pending = new Map();
    try {
      // Cross-tenant by design: one statement for every key this process saw, as the owner role.
      await this.database.adminQuery(
        `UPDATE api_keys k SET last_used_at = GREATEST(k.last_used_at, u.used_at)
           FROM unnest($1::uuid[], $2::timestamptz[]) AS u(id, used_at)
          WHERE k.id = u.id AND NOT k.revoked`,
        [[...batch.keys()], [...batch.values()].map((d) => d.toISOString())],
      );
    } catch (error) {
      // Put the uses back (newer ones win) for the next flush rather than losing them.
      for (const [id, at] of batch) if (!this.pending.has(id)) this.pending.set(id, at);
      this.logger.warn(`api key usage flush failed: ${(error as Error).message}`);
    }
  }
}
