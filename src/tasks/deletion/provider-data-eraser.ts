import { Inject, Injectable } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { AppConfig } from '../../config/app-config';
import { APP_CONFIG } from '../../config/config.module';
import { affected, rows } from '../../database/sql';
import { tenantManager, tenantScope } from '../../database/tenant-context';
import { ReportStorage } from '../../findings/reports/report-storage';
import { FindingsDeletion, PROVIDER_FINDINGS_TABLES } from '../../findings/storage/findings-deletion';
import { TenantJobContext } from '../jobs/job-context';
import { TasksRepository } from '../tasks.repository';
import { PROVIDER_OWNED_TABLES } from './provider-owned-tables';

/** The task metadata member the running totals of deleted rows live in. */
const TALLY = 'deleted';

export interface ProviderErasure {
  /**
   * Rows deleted per table, for the tables that had any: with a task, its running
   * totals (a stopped attempt's batches, and in a tenant deletion the providers
   * erased before this one, included).
   */
  deleted: Record<string, number>;
  /** Every table (partitions included) rows may have been deleted from: what a VACUUM should visit. */
  touchedTables: string[];
}

/**
 * Deletes a soft-deleted provider's data: set-based batches of
 * DELETION_BATCH_SIZE rows, each in its own short transaction, so no lock is
 * held for long and a re-run continues where a stopped one left off. After
 * each batch it pauses for DELETION_PAUSE_PERCENT of the time the batch took:
 * flat out, one deletion takes a whole database core from every other
 * tenant's reads.
 * Findings, resources and their summaries go first (the findings feature
 * knows how to reach them by index), then the rows of PROVIDER_OWNED_TABLES,
 * then the provider row.
 */
@Injectable()
export class ProviderDataEraser {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly reports: ReportStorage,
    private readonly findings: FindingsDeletion,
    private readonly tasks: TasksRepository,
  ) {}

  async erase(providerId: string, context: TenantJobContext): Promise<ProviderErasure> {
    const batch = this.config.tasks.deletionBatchSize;
    // Report files are named by scan: removed while the scan rows still say which they are.
    const [tenantId, scans, sofar] = await context.inTenant(async () => [
      tenantScope().tenantId,
      await rows<{ id: string }>(tenantManager(), `SELECT id FROM scans WHERE provider_id = $1`, [providerId]),
      context.taskId ? await this.tasks.tally(context.taskId, TALLY, {}) : {},
    ] as const);
    let deleted: Record<string, number> = { ...sofar };
    await this.reports.removeReports(tenantId, scans.map((s) => s.id));

    /**
     * One batch, answering what it answers. With a task, the counts commit
     * with the batch onto the task row, so the totals of a retried job
     * include the batches of the attempt that stopped.
     */
    const inBatch = <T extends Record<string, number> | null>(deleteBatch: () => Promise<T>): Promise<T> =>
      this.paced(context, async () => {
        const result = await deleteBatch();
        const counts: Record<string, number> = Object.fromEntries(Object.entries<number>(result ?? {}).filter(([, n]) => n > 0));
        if (Object.keys(counts).length > 0) {
          deleted = context.taskId ? await this.tasks.tally(context.taskId, TALLY, counts) : addCounts(deleted, counts);
        }
        return result;
      });

    const findings = this.findings.forProvider(providerId, batch);
    while ((await inBatch(() => findings.next())) !== null);

    for (const { table, belongs } of PROVIDER_OWNED_TABLES) {
      const deleteBatch = async () => ({
        [table]: await affected(tenantManager(), `DELETE FROM ${table} WHERE id IN (SELECT id FROM ${table} WHERE ${belongs} LIMIT $2)`, [providerId, batch]),
      });
      while ((await inBatch(deleteBatch))[table] === batch);
    }
    await inBatch(async () => ({
      providers: await affected(tenantManager(), `DELETE FROM providers WHERE id = $1 AND deleted_at IS NOT NULL`, [providerId]),
    }));
    return {
      deleted,
      touchedTables: [...findings.partitions, ...PROVIDER_FINDINGS_TABLES, ...PROVIDER_OWNED_TABLES.map((t) => t.table), 'providers'],
    };
  }

  /** The tenant's rows that belong to no provider; run once every provider's data is gone. */
  async eraseTenantLeftovers(context: TenantJobContext): Promise<void> {
    const batch = this.config.tasks.deletionBatchSize;
    for (;;) {
      if ((await this.paced(context, () => this.findings.deleteTenantBatch(batch))) < batch) break;
    }
  }

  /** One batch in its own tenant transaction, then the pause; stops at once when the job's signal fires. */
  private async paced<T>(context: TenantJobContext, batch: () => Promise<T>): Promise<T> {
    context.signal.throwIfAborted();
    const started = performance.now();
    const result = await context.inTenant(batch);
    const pauseMs = ((performance.now() - started) * this.config.tasks.deletionPausePercent) / 100;
    if (pauseMs >= 1) await sleep(pauseMs, undefined, { signal: context.signal });
    return result;
  }
}

function addCounts(totals: Record<string, number>, counts: Record<string, number>): Record<string, number> {
  const sum = { ...totals };
  for (const [table, n] of Object.entries(counts)) sum[table] = (sum[table] ?? 0) + n;
  return sum;
}
