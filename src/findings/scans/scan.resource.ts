import type { EntityManager } from 'typeorm';
import { ResourceDefinition } from '../../common/jsonapi/resource-definition';
import { rows } from '../../database/sql';

/** Scans as `include=scan` renders them; the scans feature owns the resource itself. */
export const SCAN_FIELDS = [
  'name', 'trigger', 'state', 'unique_resource_count', 'progress', 'started_at', 'completed_at', 'scheduled_at', 'inserted_at', 'provider',
] as const;

export interface IncludedScanRow {
  id: string;
  provider_id: string;
  name: string | null;
  trigger: string;
  state: string;
  unique_resource_count: number;
  progress: number;
  started_at: Date | null;
  completed_at: Date | null;
  scheduled_at: Date | null;
  inserted_at: Date;
}

export const includedScanResource: ResourceDefinition<IncludedScanRow> = {
  type: 'scans',
  id: (s) => s.id,
  attributes: (s) => ({
    name: s.name,
    trigger: s.trigger,
    state: s.state,
    unique_resource_count: s.unique_resource_count,
    progress: s.progress,
    started_at: s.started_at,
    completed_at: s.completed_at,
    scheduled_at: s.scheduled_at,
    inserted_at: s.inserted_at,
  }),
  relationships: { provider: { type: 'providers', ids: (s) => s.provider_id } },
};

export function scansForInclude(manager: EntityManager, ids: readonly string[]): Promise<IncludedScanRow[]> {
  if (ids.length === 0) return Promise.resolve([]);
  return rows<IncludedScanRow>(
    manager,
    `SELECT id, provider_id, name, trigger, state, unique_resource_count, progress, started_at, completed_at, scheduled_at, inserted_at
       FROM scans WHERE id = ANY($1::uuid[])`,
    [[...new Set(ids)]],
  );
}
