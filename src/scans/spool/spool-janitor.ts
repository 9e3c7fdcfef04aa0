import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { TenantDatabase } from '../../database/tenant-database';
import { JOB_DEFINITIONS } from '../../tasks/jobs/job-definitions';
import { ScanSpool, SpoolEntry } from './scan-spool';

const SWEEP_INTERVAL_MS = 15 * 60 * 1000;
/** An upload this old whose import is not waiting or running is a left-over; younger ones may still be on their way into a scan. */
const UPLOAD_GRACE_MS = 60 * 60 * 1000;
/** No Prowler run outlives its job's hard time limit; an output directory older than that (and an hour) lost its worker. */
const RUN_GRACE_MS = JOB_DEFINITIONS['scan-perform'].timeLimit.hardMs + 60 * 60 * 1000;

/**
 * Removes what the spool would otherwise keep forever: uploads whose import
 * task ended without removing them (a worker gone for good on the last
 * attempt) or never came to be (the API stopped between storing the file and
 * committing its scan), and output directories of Prowler runs whose worker
 * died. An upload whose task still waits or runs is never touched, however
 * long the provider's queue.
 *
 * A named cross-tenant read: which upload ids still have an unfinished
 * `scan-import` task, as the owner role.
 */
@Injectable()
export class SpoolJanitor implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('SpoolJanitor');
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly spool: ScanSpool,
    private readonly database: TenantDatabase,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => {
      this.sweep().catch((error) => this.logger.warn(`spool sweep failed: ${(error as Error).message}`));
    }, SWEEP_INTERVAL_MS);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }

  /** One pass; answers what it removed. */
  async sweep(now = Date.now()): Promise<string[]> {
    const uploads = (await this.spool.uploads()).filter((entry) => now - entry.modifiedMs > UPLOAD_GRACE_MS);
    const pending = await this.pendingUploads(uploads);
    const removed: string[] = [];
    for (const upload of uploads.filter((entry) => !pending.has(entry.id))) {
      await this.spool.remove(upload.id);
      removed.push(upload.id);
    }
    for (const run of (await this.spool.runs()).filter((entry) => now - entry.modifiedMs > RUN_GRACE_MS)) {
      await this.spool.removeRun(run.id);
      removed.push(run.id);
    }
    if (removed.length > 0) this.logger.warn(`removed ${removed.length} left-over spool entr${removed.length === 1 ? 'y' : 'ies'}`);
    return removed;
  }

  private async pendingUploads(uploads: readonly SpoolEntry[]): Promise<Set<string>> {
    if (uploads.length === 0) return new Set();
    const found = await this.database.adminQuery<{ upload_id: string }>(
      `SELECT task_args->>'uploadId' AS upload_id FROM tasks
        WHERE name IN ('scan-import', 'scan-ingestion') AND state IN ('available', 'scheduled', 'executing') AND task_args->>'uploadId' = ANY($1::text[])`,
      [uploads.map((entry) => entry.id)],
    );
    return new Set(found.map((row) => row.upload_id));
  }
}
