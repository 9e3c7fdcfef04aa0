import { dateTime, integer, nullable } from '../../common/jsonapi/attribute-schema';
import { ResourceDefinition } from '../../common/jsonapi/resource-definition';

export interface DailyScheduleRow {
  id: string;
  provider_id: string;
  every_hours: number;
  starts_at: Date;
  next_run_at: Date;
  inserted_at: Date;
}

/** Not in the contract (it has only the create endpoint): how a client sees which providers scan daily. */
export const dailyScheduleResource: ResourceDefinition<DailyScheduleRow> = {
  schema: { every_hours: integer, starts_at: dateTime, next_run_at: nullable(dateTime), inserted_at: dateTime },
  type: 'daily-schedules',
  id: (s) => s.id,
  attributes: (s) => ({ every_hours: s.every_hours, starts_at: s.starts_at, next_run_at: s.next_run_at, inserted_at: s.inserted_at }),
  relationships: { provider: { type: 'providers', ids: (s) => s.provider_id } },
};

export const DAILY_SCHEDULE_FIELDS = ['every_hours', 'starts_at', 'next_run_at', 'inserted_at', 'provider'] as const;
