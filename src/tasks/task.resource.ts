import { ResourceDefinition } from '../common/jsonapi/resource-definition';

export const TASK_STATES = ['available', 'scheduled', 'executing', 'completed', 'failed', 'cancelled'] as const;
export type TaskState = (typeof TASK_STATES)[number];
export const FINISHED_STATES: readonly TaskState[] = ['completed', 'failed', 'cancelled'];

export interface TaskRow {
  id: string;
  name: string;
  queue: string;
  state: TaskState;
  progress: number;
  result: unknown;
  task_args: unknown;
  metadata: unknown;
  provider_id: string | null;
  inserted_at: Date;
  completed_at: Date | null;
}

/** The contract's Task attributes, plus `progress` (0-100). */
export const taskResource: ResourceDefinition<TaskRow> = {
  type: 'tasks',
  id: (t) => t.id,
  attributes: (t) => ({
    inserted_at: t.inserted_at,
    completed_at: t.completed_at,
    name: t.name,
    state: t.state,
    result: t.result ?? null,
    task_args: t.task_args ?? null,
    metadata: t.metadata ?? null,
    progress: t.progress,
  }),
};

export const TASK_FIELDS = ['inserted_at', 'completed_at', 'name', 'state', 'result', 'task_args', 'metadata', 'progress'] as const;

export function taskLocation(id: string): string {
  return `/api/v1/tasks/${id}`;
}
