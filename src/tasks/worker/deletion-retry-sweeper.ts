import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { AppConfig } from '../../config/app-config';
import { APP_CONFIG } from '../../config/config.module';
import { rows } from '../../database/sql';
import { tenantManager } from '../../database/tenant-context';
import { TenantDatabase } from '../../database/tenant-database';
import { deterministicId } from '../jobs/deterministic-id';
import { queueNamespace } from '../queue/bullmq-connection';
import { TasksService } from '../tasks.service';
import { WORKERS_ENABLED } from './workers-enabled';
import { PeriodicPass } from './periodic-pass';

/** A soft-deleted provider (provider_id set) or tenant (provider_id null) whose data no task is removing. */
interface Abandoned {
  tenant_id: string;
  provider_id: string | null;
  /** The newest deletion task, ended failed or cancelled; null when there never was one. */
  last_task_id: string | null;
}

const SWEEP_BATCH = 200;

/**
 * Whether a subject soft-deleted at `deletedAt` needs a new deletion task,
 * given `last`, its newest one (a LATERAL row, null if none). Only the newest
 * counts: this sweep starts a task only once the previous one ended, so at
 * most one is live. A completed deletion removes the provider or tenant row
 * itself, so a row still here whose newest task completed is left alone
 * rather than looped on. Waiting DELETION_RETRY_AFTER_MS after the last
 * attempt keeps a deletion that fails every time (or that a user keeps
 * cancelling) from running back to back. Ended tasks of another queue
 * namespace are left to that deployment's sweep.
 */
function needsRetry(deletedAt: string): string {
  return `CASE WHEN last.id IS NULL THEN ${deletedAt} < now() - $2::int * interval '1 millisecond'
    ELSE last.queue_namespace = $1 AND last.state IN ('failed', 'cancelled')
         AND COALESCE(last.completed_at, last.updated_at) < now() - $2::int * interval '1 millisecond' END`;
}

/**
 * A deletion soft-deletes at once and removes the data in a task; a task that
 * ends failed (attempts or time exhausted, worker lost) or cancelled would
 * otherwise leave the data forever, since the provider or tenant is no longer
 * visible to delete again. Every TASK_SWEEP_INTERVAL_MS this starts a new
 * deletion task for each such provider or tenant.
 *
 * The look-up crosses tenants as the owner role; each task is enqueued in its
 * tenant's transaction through the outbox, like any other. Its id derives from
 * the task it replaces, so sweeps running at once in several workers insert
 * the same task once and relay one job.
 */
@Injectable()
export class DeletionRetrySweeper implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('DeletionRetrySweeper');
  private readonly periodic = new PeriodicPass(this.logger, () => this.sweep());

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(WORKERS_ENABLED) private readonly enabled: boolean,
    private readonly database: TenantDatabase,
    private readonly tasks: TasksService,
  ) {}

  onApplicationBootstrap(): void {
    // A worker without the owner role leaves the sweep to the workers that have it.
    if (this.enabled && this.database.hasOwnerRole) this.periodic.start(this.config.tasks.sweepIntervalMs);
  }

  onModuleDestroy(): Promise<void> {
    return this.periodic.stop();
  }

  /** One pass; answers for how many providers and tenants it enqueued a deletion task. */
  async sweep(): Promise<number> {
    const params = [queueNamespace(this.config), this.config.tasks.deletionRetryAfterMs];
    // A deleted tenant's providers are left to its own tenant deletion, which erases them all.
    const providers = await this.database.adminQuery<Abandoned>(
      `SELECT p.tenant_id, p.id AS provider_id, last.id AS last_task_id
         FROM providers p JOIN tenants tn ON tn.id = p.tenant_id AND tn.deleted_at IS NULL
         LEFT JOIN LATERAL (SELECT t.id, t.state, t.queue_namespace, t.completed_at, t.updated_at FROM tasks t
                             WHERE t.provider_id = p.id AND t.tenant_id = p.tenant_id AND t.name = 'provider-deletion'
                             ORDER BY t.inserted_at DESC, t.id DESC LIMIT 1) last ON true
        WHERE p.deleted_at IS NOT NULL AND ${needsRetry('p.deleted_at')}
        ORDER BY p.deleted_at LIMIT ${SWEEP_BATCH}`,
      params,
    );
    const tenants = await this.database.adminQuery<Abandoned>(
      `SELECT tn.id AS tenant_id, NULL AS provider_id, last.id AS last_task_id
         FROM tenants tn
         LEFT JOIN LATERAL (SELECT t.id, t.state, t.queue_namespace, t.completed_at, t.updated_at FROM tasks t
                             WHERE t.tenant_id = tn.id AND t.name = 'tenant-deletion'
                             ORDER BY t.inserted_at DESC, t.id DESC LIMIT 1) last ON true
        WHERE tn.deleted_at IS NOT NULL AND ${needsRetry('tn.deleted_at')}
        ORDER BY tn.deleted_at LIMIT ${SWEEP_BATCH}`,
      params,
    );
    let started = 0;
    for (const subject of [...providers, ...tenants]) {
      try {
        if (await this.restart(subject)) started++;
      } catch (error) {
        // One subject's failure (its tenant deleted meanwhile, say) must not hold back the others; the next pass tries again.
        this.logger.warn(`could not restart the deletion of ${describe(subject)}: ${(error as Error).message}`);
      }
    }
    if (started > 0) this.logger.warn(`enqueued ${started} deletion task(s) again after a failed or cancelled one`);
    return started;
  }

  /**
   * False when the provider went meanwhile. A task already inserted under the
   * same id (a concurrent sweep's) is returned by enqueue as is, with no
   * second outbox row: that is what makes concurrent sweeps harmless.
   */
  private restart(subject: Abandoned): Promise<boolean> {
    const previous = subject.last_task_id ?? 'none';
    const metadata = { retry_of: subject.last_task_id };
    return this.database.transaction(subject.tenant_id, async () => {
      if (subject.provider_id === null) {
        const id = deterministicId('tenant-deletion-retry', subject.tenant_id, previous);
        await this.tasks.enqueue({ name: 'tenant-deletion', args: {} }, { id, metadata });
        return true;
      }
      // The look-up ran outside this transaction: a deletion may have removed the row since.
      const [provider] = await rows(tenantManager(), `SELECT 1 FROM providers WHERE id = $1 AND deleted_at IS NOT NULL`, [subject.provider_id]);
      if (!provider) return false;
      const id = deterministicId('provider-deletion-retry', subject.provider_id, previous);
      await this.tasks.enqueue({ name: 'provider-deletion', args: { providerId: subject.provider_id } }, { id, metadata });
      return true;
    });
  }
}

function describe(subject: Abandoned): string {
  return subject.provider_id ? `provider ${subject.provider_id}` : `tenant ${subject.tenant_id}`;
}
