import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { AppConfig } from '../../config/app-config';
import { APP_CONFIG } from '../../config/config.module';
import { TenantDatabase } from '../../database/tenant-database';
import { queueNamespace } from '../queue/bullmq-connection';
import { OutboxDispatcher } from './outbox-dispatcher';
import { OutboxRow } from './outbox-row';

/**
 * Moves outbox rows to BullMQ, then deletes them. Runs in every API and
 * worker process: rows are taken with FOR UPDATE SKIP LOCKED, so relays never
 * hand over the same row at once, and a row handed over twice (a crash before
 * the delete commits) is deduplicated by its job id. Rows BullMQ refused
 * (Redis down) stay, with a growing delay, until it takes them.
 *
 * A named cross-tenant operation: it reads every tenant's outbox as the owner
 * role, but only the rows of its own queue namespace (REDIS_PREFIX).
 */
@Injectable()
export class OutboxRelay implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('OutboxRelay');
  private timer?: NodeJS.Timeout;
  private running: Promise<void> | null = null;
  private rerun = false;
  private stopped = false;
  private failingSince = 0;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly database: TenantDatabase,
    private readonly dispatcher: OutboxDispatcher,
  ) {}

  onApplicationBootstrap(): void {
    // Without the owner role (a scans-only worker), the other processes relay what this one writes.
    if (!this.database.hasOwnerRole) return;
    this.timer = setInterval(() => this.nudge(), this.config.tasks.outboxPollIntervalMs);
    this.timer.unref();
    this.nudge();
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.running;
  }

  /** Runs the relay now, or once more right after the run in progress; never two at once in a process. */
  nudge(): void {
    if (this.stopped || !this.database.hasOwnerRole) return;
    if (this.running) {
      this.rerun = true;
      return;
    }
    this.running = this.drain()
      .catch((error) => this.logger.warn(`relay round failed: ${(error as Error).message}`))
      .finally(() => {
        this.running = null;
        if (this.rerun) {
          this.rerun = false;
          this.nudge();
        }
      });
  }

  private async drain(): Promise<void> {
    while (!this.stopped) {
      const { taken, handed } = await this.relayBatch();
      if (taken < this.config.tasks.outboxBatchSize || handed === 0) return;
    }
  }

  private relayBatch(): Promise<{ taken: number; handed: number }> {
    return this.database.adminTransaction(async (manager) => {
      const rows: OutboxRow[] = await manager.query(
        `SELECT id, queue, operation, job_name, job_id, payload, options, attempts FROM outbox
          WHERE queue_namespace = $1 AND available_at <= now()
          ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED`,
        [queueNamespace(this.config), this.config.tasks.outboxBatchSize],
      );
      if (rows.length === 0) return { taken: 0, handed: 0 };
      const { done, failed } = await this.dispatcher.dispatch(rows);
      if (done.length > 0) await manager.query(`DELETE FROM outbox WHERE id = ANY($1::uuid[])`, [done]);
      if (failed.size > 0) {
        const ids = [...failed.keys()];
        await manager.query(
          `UPDATE outbox SET attempts = attempts + 1, last_error = left($2, 500),
                  available_at = now() + least($3::int, 100 * power(2, least(attempts, 16))::int) * interval '1 millisecond'
            WHERE id = ANY($1::uuid[])`,
          [ids, [...failed.values()][0].message, this.config.tasks.outboxRetryMaxDelayMs],
        );
        this.reportFailure([...failed.values()][0]);
      } else if (this.failingSince) {
        this.logger.log(`BullMQ takes jobs again after ${Math.round((Date.now() - this.failingSince) / 1000)} s; the waiting outbox rows are moving`);
        this.failingSince = 0;
      }
      return { taken: rows.length, handed: done.length };
    });
  }

  private reportFailure(error: Error): void {
    if (this.failingSince) return;
    this.failingSince = Date.now();
    this.logger.warn(`BullMQ refused outbox rows (${error.message}); they stay in the outbox and are retried`);
  }
}
