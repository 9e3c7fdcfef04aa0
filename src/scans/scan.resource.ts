import { dateTime, integer, nullable, oneOf, text } from '../common/jsonapi/attribute-schema';
import { ResourceDefinition } from '../common/jsonapi/resource-definition';
import { TASK_STATES } from '../tasks/task.resource';

export const SCAN_TRIGGERS = ['manual', 'scheduled', 'imported'] as const;
export const SCAN_STATES = TASK_STATES;

export const SCAN_FIELDS = [
  'name', 'trigger', 'origin', 'state', 'unique_resource_count', 'progress', 'duration', 'inserted_at', 'started_at', 'completed_at',
  'scheduled_at', 'next_scan_at', 'provider', 'task', 'processor',
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

/**
 * The contract's Scan, plus `origin`. An import is stored with its own
 * trigger, and shown within the contract's `scheduled|manual` as the manual
 * start it is; `origin` tells where findings came from: `imported` (a file
 * import), `pushed` (the Prowler CLI), or null (a scan this API ran).
 */
export const scanResource: ResourceDefinition<ScanRow> = {
  schema: {
    name: nullable(text),
    trigger: oneOf(['scheduled', 'manual']),
    origin: nullable(text),
    state: oneOf(SCAN_STATES),
    unique_resource_count: integer,
    progress: integer,
    duration: nullable(integer),
    inserted_at: dateTime,
    started_at: nullable(dateTime),
    completed_at: nullable(dateTime),
    scheduled_at: nullable(dateTime),
    next_scan_at: nullable(dateTime),
  },
  type: 'scans',
  selfPath: 'scans',
  id: (s) => s.id,
  attributes: (s) => ({
    name: s.name,
    trigger: s.trigger === 'imported' ? 'manual' : s.trigger,
    origin: s.origin ?? (s.trigger === 'imported' ? 'imported' : null),
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
    // Prowler's post-scan processors (mutelists) have no counterpart here.
    processor: { type: 'processors', ids: () => null },
  },
};
