import { Injectable } from '@nestjs/common';
import { rows } from '../../database/sql';
import { tenantManager } from '../../database/tenant-context';
import { ProviderDataEraser } from '../deletion/provider-data-eraser';
import { TableVacuum } from '../deletion/table-vacuum';
import { JobArguments } from '../jobs/job-definitions';
import { JobOutcomeError } from '../jobs/job-errors';
import { TenantJobContext } from '../jobs/job-context';
import { JobHandler } from '../jobs/job-handler.decorator';
import { TenantJob } from '../jobs/tenant-job.wrapper';

/** Not under @ProviderJob: its provider is deleted by design. */
@JobHandler('provider-deletion')
@Injectable()
export class ProviderDeletionHandler {
  constructor(
    private readonly eraser: ProviderDataEraser,
    private readonly vacuum: TableVacuum,
  ) {}

  @TenantJob({ transaction: 'step' })
  async process({ providerId }: JobArguments['provider-deletion'], context: TenantJobContext): Promise<unknown> {
    const [provider] = await context.inTenant(() =>
      rows<{ deleted: boolean }>(tenantManager(), `SELECT deleted_at IS NOT NULL AS deleted FROM providers WHERE id = $1`, [providerId]),
    );
    if (!provider) return { deleted: {}, note: 'the provider was already gone' };
    if (!provider.deleted) throw new JobOutcomeError('provider_live', 'The provider is not marked deleted; its data was left alone.');
    const erased = await this.eraser.erase(providerId, context);
    return { deleted: erased.deleted, vacuum: await this.vacuum.vacuumAnalyze(erased.touchedTables, context.signal) };
  }
}
