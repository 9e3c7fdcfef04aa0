import { ResourceDefinition } from '../common/jsonapi/resource-definition';
import { TASK_STATES } from '../tasks/task.resource';

export const SCAN_TRIGGERS = ['manual', 'scheduled', 'imported'] as const;
export const SCAN_STATES = TASK_STATES;

export const SCAN_FIELDS = [
  'name', 'trigger', 'origin', 'state', 'unique_resource_count', 'progress', 'duration', 'inserted_at', 'started_at', 'completed_at',
  'scheduled_at', 'next_scan_at', 'provider', 'task',
] as const;

export interface ScanRow {
  id: string;
  provider_id: string;
  task_id: string | null;
  name: string | null;
  trigger: string;
  /** `pushed` when the Prowler CLI sent the findings; null for a scan this API ran. */
  origin: string | null;
  state: string;
  progress: number;
  unique_resource_count: number;
  /** Seconds from start to completion, once both are known. */
  duration: number | null;
  inserted_at: Date;
  started_at: Date | null;
  completed_at: Date | null;
  scheduled_at: Date | null;
  next_scan_at: Date | null;
}

/** The contract's Scan; `imported` joins manual and scheduled as a trigger. */
export const scanResource: ResourceDefinition<ScanRow> = {
  type: 'scans',
  id: (s) => s.id,
  attributes: (s) => ({
    name: s.name,
    trigger: s.trigger,
    origin: s.origin,
    state: s.state,
    unique_resource_count: s.unique_resource_count,
    progress: s.progress,
    duration: s.duration,
    inserted_at: s.inserted_at,
    started_at: s.started_at,
    completed_at: s.completed_at,
    scheduled_at: s.scheduled_at,
    next_scan_at: s.next_scan_at,
  }),
  relationships: {
    provider: { type: 'providers', ids: (s) => s.provider_id },
    task: { type: 'tasks', ids: (s) => s.task_id },
  },
};
