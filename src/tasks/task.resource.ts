import { anything, dateTime, integer, nullable, oneOf, text } from '../common/jsonapi/attribute-schema';
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
  /** The last change of state or progress. */
  updated_at: Date;
  completed_at: Date | null;
}

/** The contract's Task attributes, plus `progress` (0-100). */
export const taskResource: ResourceDefinition<TaskRow> = {
  schema: {
    inserted_at: dateTime,
    completed_at: dateTime,
    name: text,
    state: oneOf(TASK_STATES),
    result: anything,
    task_args: anything,
    metadata: anything,
    progress: nullable(integer),
  },
  type: 'tasks',
  id: (t) => t.id,
  attributes: (t) => ({
    inserted_at: t.inserted_at,
    // Prowler answers its task result's date_done, set on every state change: never null, the end once finished.
    completed_at: t.completed_at ?? t.updated_at,
    name: t.name,
    state: t.state,
    result: t.result ?? null,
    task_args: snakeCaseKeys(t.task_args),
    metadata: t.metadata ?? null,
    progress: t.progress,
  }),
};

export const TASK_FIELDS = ['inserted_at', 'completed_at', 'name', 'state', 'result', 'task_args', 'metadata', 'progress'] as const;

/** Job arguments are kept as the handlers read them (camelCase); Prowler's clients read snake_case keys, and no tenant id. */
function snakeCaseKeys(args: unknown): Record<string, unknown> {
  if (typeof args !== 'object' || args === null || Array.isArray(args)) return {};
  return Object.fromEntries(
    Object.entries(args as Record<string, unknown>)
      .filter(([key]) => key !== 'tenantId')
      .map(([key, value]) => [key.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`), value]),
  );
}

export function taskLocation(id: string): string {
  return `/api/v1/tasks/${id}`;
}
