import { Injectable } from '@nestjs/common';
import { tenantManager } from '../../database/tenant-context';
import { JobRequest } from '../jobs/job-definitions';
import { TaskRow } from '../task.resource';
import { TasksService } from '../tasks.service';

/**
 * Starts a workflow inside the caller's transaction: every step's task row
 * and outbox row at once, the first stage's jobs free to run, the later ones
 * held back with their dependencies recorded (task_dependencies), so the
 * database trigger there releases or stops each one as the steps before it
 * end. Nothing reaches Redis unless the caller commits, and `idOf` gives each
 * step a stable id: starting the same workflow twice adds no task, no job and
 * no dependency.
 */
@Injectable()
export class WorkflowStarter {
  constructor(private readonly tasks: TasksService) {}

  async start(stages: readonly (readonly JobRequest[])[], idOf: (request: JobRequest) => string): Promise<TaskRow[][]> {
    const started: TaskRow[][] = [];
    let previous: TaskRow[] = [];
    for (const stage of stages) {
      const tasks: TaskRow[] = [];
      for (const request of stage) {
        const waitsFor = previous.map((p) => p.id);
        // A waiting step shows `available` like any task not yet run; its metadata says what it waits for.
        const task = await this.tasks.enqueue(request, { id: idOf(request), held: waitsFor.length > 0, metadata: waitsFor.length ? { waits_for: waitsFor } : {} });
        if (waitsFor.length) await this.dependOn(task.id, waitsFor);
        tasks.push(task);
      }
      started.push(tasks);
      previous = tasks;
    }
    return started;
  }

  private async dependOn(taskId: string, dependencies: readonly string[]): Promise<void> {
    await tenantManager().query(
      `INSERT INTO task_dependencies (tenant_id, task_id, depends_on)
       SELECT NULLIF(current_setting('api.tenant_id', true), '')::uuid, $1, d FROM unnest($2::uuid[]) AS d
       ON CONFLICT DO NOTHING`,
      [taskId, dependencies],
    );
  }
}
