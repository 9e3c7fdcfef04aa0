import { Inject, Injectable } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { AppConfig } from '../../config/app-config';
import { APP_CONFIG } from '../../config/config.module';
import { affected, rows } from '../../database/sql';
import { tenantManager, tenantScope } from '../../database/tenant-context';
import { ReportStorage } from '../../findings/reports/report-storage';
import { FindingsDeletion, PROVIDER_FINDINGS_TABLES } from '../../findings/storage/findings-deletion';
import { TenantJobContext } from '../jobs/job-context';
import { PROVIDER_OWNED_TABLES } from './provider-owned-tables';

export interface ProviderErasure {
  /** Rows deleted per table, for the tables that had any. */
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
  ) {}

  async erase(providerId: string, context: TenantJobContext): Promise<ProviderErasure> {
    const batch = this.config.tasks.deletionBatchSize;
    const deleted: Record<string, number> = {};
    // Report files are named by scan: removed while the scan rows still say which they are.
    const [tenantId, scans] = await context.inTenant(async () => [
      tenantScope().tenantId,
      await rows<{ id: string }>(tenantManager(), `SELECT id FROM scans WHERE provider_id = $1`, [providerId]),
    ] as const);
    await this.reports.removeReports(tenantId, scans.map((s) => s.id));

    const count = (table: string, rows: number) => {
      if (rows > 0) deleted[table] = (deleted[table] ?? 0) + rows;
    };

    const findings = this.findings.forProvider(providerId, batch);
    for (;;) {
      const step = await this.paced(context, () => findings.next());
      if (!step) break;
      for (const [table, rows] of Object.entries(step)) count(table, rows);
    }

    for (const { table, belongs } of PROVIDER_OWNED_TABLES) {
      for (;;) {
        const rows = await this.paced(context, () =>
          affected(tenantManager(), `DELETE FROM ${table} WHERE id IN (SELECT id FROM ${table} WHERE ${belongs} LIMIT $2)`, [providerId, batch]),
        );
        count(table, rows);
        if (rows < batch) break;
      }
    }
    count(
      'providers',
      await context.inTenant(() => affected(tenantManager(), `DELETE FROM providers WHERE id = $1 AND deleted_at IS NOT NULL`, [providerId])),
    );
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
