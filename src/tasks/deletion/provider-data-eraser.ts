import { Inject, Injectable } from '@nestjs/common';
import { AppConfig } from '../../config/app-config';
import { APP_CONFIG } from '../../config/config.module';
import { affected, rows } from '../../database/sql';
import { tenantManager, tenantScope } from '../../database/tenant-context';
import { ReportStorage } from '../../findings/reports/report-storage';
import { TenantJobContext } from '../jobs/job-context';
import { PROVIDER_OWNED_TABLES } from './provider-owned-tables';

/**
 * Deletes a soft-deleted provider's data: set-based batches of
 * DELETION_BATCH_SIZE rows, each in its own short transaction, so no lock is
 * held for long and a re-run continues where a stopped one left off.
 */
@Injectable()
export class ProviderDataEraser {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly reports: ReportStorage,
  ) {}

  /** Rows deleted per table; the provider row goes last (its secrets and group links cascade). */
  async erase(providerId: string, context: TenantJobContext): Promise<Record<string, number>> {
    const batch = this.config.tasks.deletionBatchSize;
    const deleted: Record<string, number> = {};
    // Report files are named by scan: removed while the scan rows still say which they are.
    const [tenantId, scans] = await context.inTenant(async () => [
      tenantScope().tenantId,
      await rows<{ id: string }>(tenantManager(), `SELECT id FROM scans WHERE provider_id = $1`, [providerId]),
    ] as const);
    await this.reports.removeReports(tenantId, scans.map((s) => s.id));
    for (const { table, belongs } of PROVIDER_OWNED_TABLES) {
      deleted[table] = 0;
      for (;;) {
        context.signal.throwIfAborted();
        const count = await context.inTenant(() =>
          affected(tenantManager(), `DELETE FROM ${table} WHERE id IN (SELECT id FROM ${table} WHERE ${belongs} LIMIT $2)`, [providerId, batch]),
        );
        deleted[table] += count;
        if (count < batch) break;
      }
    }
    deleted.providers = await context.inTenant(() =>
      affected(tenantManager(), `DELETE FROM providers WHERE id = $1 AND deleted_at IS NOT NULL`, [providerId]),
    );
    return deleted;
  }
}
