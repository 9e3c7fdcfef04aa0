import { boolean, dateTime, integer, nullable, oneOf, text } from '../common/jsonapi/attribute-schema';
import { ResourceDefinition } from '../common/jsonapi/resource-definition';
import { TASK_STATES, TaskRow, TaskState } from '../tasks/task.resource';

/**
 * A push from the Prowler CLI, identified by its `scan-ingestion` task. Its
 * state runs across both steps: the ingestion task's until the provider and
 * scan are found, then the scan's import task's, so `completed` means the
 * findings are stored.
 */
export interface IngestionRow {
  task: TaskRow;
  /** The `scan-import` task the ingestion started, once it has. */
  scanTask: TaskRow | null;
}

interface IngestionResult {
  provider_id?: string;
  scan_id?: string;
  scan_task_id?: string;
  provider_created?: boolean;
  records?: number;
}

export function ingestionResult(task: TaskRow): IngestionResult {
  return task.state === 'completed' && task.result && typeof task.result === 'object' ? (task.result as IngestionResult) : {};
}

function state(row: IngestionRow): TaskState {
  if (row.task.state !== 'completed') return row.task.state;
  return row.scanTask?.state ?? 'available';
}

function progress(row: IngestionRow): number {
  if (row.task.state !== 'completed') return Math.floor(row.task.progress / 10);
  return row.scanTask ? 10 + Math.floor((row.scanTask.progress * 90) / 100) : 10;
}

export const ingestionResource: ResourceDefinition<IngestionRow> = {
  schema: {
    state: oneOf(TASK_STATES),
    progress: integer,
    records: nullable(integer),
    provider_created: nullable(boolean),
    error: nullable(text),
    inserted_at: dateTime,
    completed_at: nullable(dateTime),
  },
  type: 'ingestions',
  id: (row) => row.task.id,
  attributes: (row) => {
    const result = ingestionResult(row.task);
    const failed = row.task.state === 'failed' ? row.task : row.scanTask?.state === 'failed' ? row.scanTask : null;
    return {
      state: state(row),
      progress: progress(row),
      records: result.records ?? null,
      provider_created: result.provider_created ?? null,
      error: failed ? ((failed.result as { error?: string } | null)?.error ?? null) : null,
      inserted_at: row.task.inserted_at,
      completed_at: row.scanTask?.completed_at ?? (row.task.state === 'completed' ? null : row.task.completed_at),
    };
  },
  relationships: {
    task: { type: 'tasks', ids: (row) => row.task.id },
    provider: { type: 'providers', ids: (row) => ingestionResult(row.task).provider_id ?? null },
    scan: { type: 'scans', ids: (row) => ingestionResult(row.task).scan_id ?? null },
    scan_task: { type: 'tasks', ids: (row) => row.scanTask?.id ?? null },
  },
};

export function ingestionLocation(id: string): string {
  return `/api/v1/ingestions/${id}`;
}
