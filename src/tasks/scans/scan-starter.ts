import { Injectable } from '@nestjs/common';
import { tenantManager, tenantScope } from '../../database/tenant-context';
import { newId } from '../../database/uuid';
import { deterministicId } from '../jobs/deterministic-id';
import { TaskRow } from '../task.resource';
import { TasksService } from '../tasks.service';

export type ScanTrigger = 'manual' | 'scheduled';

/**
 * The one way a scan starts, manual or scheduled: a scan row and its
 * `scan-perform` task, in the caller's transaction.
 */
@Injectable()
export class ScanStarter {
  constructor(private readonly tasks: TasksService) {}

  /** `idempotencyKey` makes a repeated call (a scheduler tick run twice) return the first scan's task. */
  async start(providerId: string, trigger: ScanTrigger, name: string, idempotencyKey?: string): Promise<TaskRow> {
    const scanId = idempotencyKey ? deterministicId('scan', idempotencyKey) : newId();
    const taskId = idempotencyKey ? deterministicId('scan-task', idempotencyKey) : undefined;
    const task = await this.tasks.enqueue({ name: 'scan-perform', args: { scanId, providerId } }, { id: taskId });
    await tenantManager().query(
      `INSERT INTO scans (id, tenant_id, provider_id, name, trigger, state, task_id, scheduled_at)
       VALUES ($1, $2, $3, $4, $5::varchar, $6, $7, CASE WHEN $5::varchar = 'scheduled' THEN now() END)
       ON CONFLICT (id) DO NOTHING`,
      [scanId, tenantScope().tenantId, providerId, name, trigger, trigger === 'scheduled' ? 'scheduled' : 'available', task.id],
    );
    return task;
  }
}
