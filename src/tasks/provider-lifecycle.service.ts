import { Injectable } from '@nestjs/common';
import { ApiError } from '../common/errors/api-error';
import { affected } from '../database/sql';
import { tenantManager } from '../database/tenant-context';
import { assertLiveVisibleProvider, assertProviderVisible } from './provider-access';
import { DailySchedulesService } from './schedules/daily-schedules.service';
import { TaskRow } from './task.resource';
import { TasksService } from './tasks.service';

/** Provider operations that run as tasks: deletion and the connection check. */
@Injectable()
export class ProviderLifecycleService {
  constructor(
    private readonly tasks: TasksService,
    private readonly schedules: DailySchedulesService,
  ) {}

  /**
   * The provider is soft-deleted now, so every endpoint stops showing it with
   * this commit; its daily schedule goes with it; a `provider-deletion` task
   * removes its data in batches afterwards.
   */
  async delete(providerId: string): Promise<TaskRow> {
    assertProviderVisible(providerId);
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
    await assertLiveVisibleProvider(providerId);
    return this.tasks.enqueue({ name: 'provider-connection-check', args: { providerId } });
  }
}
