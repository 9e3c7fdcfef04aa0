import { Injectable } from '@nestjs/common';
import { rows } from '../../database/sql';
import { tenantManager } from '../../database/tenant-context';
import { ProviderDataEraser } from '../deletion/provider-data-eraser';
import { TableVacuum } from '../deletion/table-vacuum';
import { JobArguments } from '../jobs/job-definitions';
import { TenantJobContext } from '../jobs/job-context';
import { JobHandler } from '../jobs/job-handler.decorator';
import { TenantJob } from '../jobs/tenant-job.wrapper';
import { DailySchedulesService } from '../schedules/daily-schedules.service';

/**
 * Deletes a soft-deleted tenant: each provider's data in batches (as a
 * provider deletion does), the tenant's rows that belong to no provider,
 * then the tenant row, whose foreign keys cascade to what is left
 * (memberships, roles, mute rules, tasks, this one included), and last one
 * VACUUM of every table the deletion touched.
 */
@JobHandler('tenant-deletion')
@Injectable()
export class TenantDeletionHandler {
  constructor(
    private readonly eraser: ProviderDataEraser,
    private readonly schedules: DailySchedulesService,
    private readonly vacuum: TableVacuum,
  ) {}

  @TenantJob({ transaction: 'step' })
  async process(_args: JobArguments['tenant-deletion'], context: TenantJobContext): Promise<unknown> {
    const providers = await context.inTenant(() => rows<{ id: string }>(tenantManager(), `SELECT id FROM providers ORDER BY id`));
    const touched = new Set<string>(['resource_tags', 'mute_rules']);
    for (const [index, { id }] of providers.entries()) {
      await context.inTenant(async () => {
        await tenantManager().query(`UPDATE providers SET deleted_at = now(), updated_at = now() WHERE id = $1 AND deleted_at IS NULL`, [id]);
        await this.schedules.removeForProvider(id);
      });
      for (const table of (await this.eraser.erase(id, context)).touchedTables) touched.add(table);
      await context.progress(((index + 1) / (providers.length + 1)) * 100);
    }
    await this.eraser.eraseTenantLeftovers(context);
    await context.inTenant(async () => {
      // Only a tenant already soft-deleted by DELETE /tenants/{id} is removed.
      await tenantManager().query(`DELETE FROM tenants WHERE deleted_at IS NOT NULL`);
    });
    return { providers: providers.length, vacuum: await this.vacuum.vacuumAnalyze([...touched], context.signal) };
  }
}
