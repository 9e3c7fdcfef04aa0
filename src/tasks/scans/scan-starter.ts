import { Injectable } from '@nestjs/common';
import { tenantManager, tenantScope } from '../../database/tenant-context';
import { newId } from '../../database/uuid';
import { deterministicId } from '../jobs/deterministic-id';
import { JobRequest } from '../jobs/job-definitions';
import { TaskRow } from '../task.resource';
import { TasksService } from '../tasks.service';

export type ScanTrigger = 'manual' | 'scheduled' | 'imported';

/** Where a scan's results came from when this API did not run it. */
export type ScanOrigin = 'pushed';

interface NewScan {
  providerId: string;
  trigger: ScanTrigger;
  origin?: ScanOrigin;
  name: string | null;
  scanId: string;
  taskId?: string;
  job: JobRequest;
}

/**
 * The one way a scan starts, manual, scheduled or imported: a scan row and
 * its task, in the caller's transaction. One scan runs per provider at a
 * time: the task's job is written held back, and start_next_waiting_scan
 * (see the scan-queue migration) releases it now if the provider is free,
 * else when the scans before it have ended.
 */
@Injectable()
export class ScanStarter {
  constructor(private readonly tasks: TasksService) {}

  /** `idempotencyKey` makes a repeated call (a scheduler tick run twice) return the first scan's task. */
  start(providerId: string, trigger: 'manual' | 'scheduled', name: string | null, idempotencyKey?: string): Promise<TaskRow> {
    const scanId = idempotencyKey ? deterministicId('scan', idempotencyKey) : newId();
    const taskId = idempotencyKey ? deterministicId('scan-task', idempotencyKey) : undefined;
    return this.create({ providerId, trigger, name, scanId, taskId, job: { name: 'scan-perform', args: { scanId, providerId } } });
  }

  /** A scan whose results are an uploaded OCSF file, already in the import spool under `uploadId`. */
  startImport(providerId: string, name: string | null, uploadId: string): Promise<TaskRow> {
    const scanId = newId();
    return this.create({ providerId, trigger: 'imported', name, scanId, job: { name: 'scan-import', args: { scanId, providerId, uploadId } } });
  }

  /**
   * Findings the Prowler CLI pushed (`POST /ingestions`), already in the
   * import spool: a manual scan, ingested as an import is. `idempotencyKey`
   * (the ingestion's task id) makes a retried ingestion find its first scan.
   */
  startPushed(providerId: string, uploadId: string, idempotencyKey: string): Promise<TaskRow> {
    const scanId = deterministicId('pushed-scan', idempotencyKey);
    const taskId = deterministicId('pushed-scan-task', idempotencyKey);
    return this.create({ providerId, trigger: 'manual', origin: 'pushed', name: null, scanId, taskId, job: { name: 'scan-import', args: { scanId, providerId, uploadId } } });
  }

  private async create(scan: NewScan): Promise<TaskRow> {
    const task = await this.tasks.enqueue(scan.job, { id: scan.taskId, held: true });
    const manager = tenantManager();
    await manager.query(
      `INSERT INTO scans (id, tenant_id, provider_id, name, trigger, state, task_id, scheduled_at, origin)
       VALUES ($1, $2, $3, $4, $5::varchar, $6, $7, CASE WHEN $5::varchar = 'scheduled' THEN now() END, $8)
       ON CONFLICT (id) DO NOTHING`,
      [scan.scanId, tenantScope().tenantId, scan.providerId, scan.name, scan.trigger, scan.trigger === 'scheduled' ? 'scheduled' : 'available', task.id, scan.origin ?? null],
    );
    await manager.query(`SELECT start_next_waiting_scan($1)`, [scan.providerId]);
    return task;
  }
}
