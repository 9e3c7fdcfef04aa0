import { Injectable } from '@nestjs/common';
import { ApiError } from '../common/errors/api-error';
import { affected } from '../database/sql';
import { tenantManager } from '../database/tenant-context';
import { ProvidersService } from '../providers/providers.service';
import { DailySchedulesService } from './schedules/daily-schedules.service';
import { TaskRow } from './task.resource';
import { TasksService } from './tasks.service';

/**
 * Provider operations that run as tasks: deletion, the connection check and
 * the daily scan. Each first reads the provider as the caller may see it
 * (live, visible to their role, within their row filter rules): one they
 * cannot read answers 404 here too.
 */
@Injectable()
export class ProviderLifecycleService {
  constructor(
    private readonly tasks: TasksService,
    private readonly schedules: DailySchedulesService,
    private readonly providers: ProvidersService,
  ) {}

  /**
   * The provider is soft-deleted now, so every endpoint stops showing it with
   * this commit; its daily schedule goes with it; a `provider-deletion` task
   * removes its data in batches afterwards.
   */
  async delete(providerId: string): Promise<TaskRow> {
    await this.providers.getVisibleProvider(providerId);
    const deleted = await affected(
      tenantManager(),
      `UPDATE providers SET deleted_at = now(), updated_at = now() WHERE id = $1 AND deleted_at IS NULL`,
      [providerId],
    );
    if (deleted === 0) throw ApiError.notFound();
    await this.schedules.removeForProvider(providerId);
    return this.tasks.enqueue({ name: 'provider-deletion', args: { providerId } });
  }

  async checkConnection(providerId: string): Promise<TaskRow> {
    await this.providers.getVisibleProvider(providerId);
    return this.tasks.enqueue({ name: 'provider-connection-check', args: { providerId } });
  }

  async scheduleDaily(providerId: string): Promise<TaskRow> {
    await this.providers.getVisibleProvider(providerId, '/data/attributes/provider_id');
    return this.schedules.create(providerId);
  }
}
