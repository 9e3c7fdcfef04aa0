import type { EntityManager } from 'typeorm';
import { rows } from '../../database/sql';
import { JobName } from '../../tasks/jobs/job-definitions';
import { TaskRow } from '../../tasks/task.resource';

/**
 * The newest unfinished task of an after-scan job for one scan, if any: what
 * a read of that job's output answers with 202 while the work is pending.
 * Looked up through the provider (an indexed column) and the job's arguments.
 */
export async function unfinishedScanTask(manager: EntityManager, job: JobName, scanId: string, providerId: string): Promise<TaskRow | undefined> {
  const [task] = await rows<TaskRow>(
    manager,
    `SELECT id, name, queue, state, progress, result, task_args, metadata, provider_id, inserted_at, updated_at, completed_at
       FROM tasks
      WHERE provider_id = $1 AND name = $2 AND task_args->>'scanId' = $3 AND state IN ('available', 'scheduled', 'executing')
      ORDER BY inserted_at DESC LIMIT 1`,
    [providerId, job, scanId],
  );
  return task;
}
