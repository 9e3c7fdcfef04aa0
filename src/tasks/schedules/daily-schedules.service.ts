import { Injectable } from '@nestjs/common';
import { ApiError } from '../../common/errors/api-error';
import { limitOffset } from '../../common/jsonapi/paging';
import { ParsedQuery } from '../../common/jsonapi/query-spec';
import { rows } from '../../database/sql';
import { currentPrincipal, tenantManager, tenantScope } from '../../database/tenant-context';
import { newId } from '../../database/uuid';
import { JOB_DEFINITIONS, JobData } from '../jobs/job-definitions';
import { TASK_BACKOFF } from '../jobs/retry-backoff';
import { OutboxWriter } from '../outbox/outbox-writer';
import { assertLiveVisibleProvider } from '../provider-access';
import { ScanStarter } from '../scans/scan-starter';
import { TaskRow } from '../task.resource';
import { DailyScheduleRow } from './daily-schedule.resource';

const EVERY_HOURS = 24;
const HOUR_MS = 60 * 60 * 1000;
const TICK = 'scan-perform-scheduled';

/** The BullMQ job scheduler of a provider's daily scan. */
export function dailySchedulerId(providerId: string): string {
  return `daily-scan:${providerId}`;
}

/**
 * Daily scans. The `scan_schedules` row is the record (visible, unique per
 * provider, under RLS); the BullMQ job scheduler that fires the ticks is
 * created and removed through the outbox, in the same transaction as the row.
 */
@Injectable()
export class DailySchedulesService {
  constructor(
    private readonly outbox: OutboxWriter,
    private readonly scans: ScanStarter,
  ) {}

  /** Creates the schedule and starts its first scan now (the scheduler's own runs begin 24 h later); 409 if one exists. */
  async create(providerId: string): Promise<TaskRow> {
    await assertLiveVisibleProvider(providerId);
    const startsAt = Date.now() + EVERY_HOURS * HOUR_MS;
    const created = await rows(
      tenantManager(),
      `INSERT INTO scan_schedules (id, tenant_id, provider_id, every_hours, starts_at) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (provider_id) DO NOTHING RETURNING id`,
      [newId(), tenantScope().tenantId, providerId, EVERY_HOURS, new Date(startsAt)],
    );
    if (created.length === 0) {
      throw ApiError.conflict('conflict', 'There is already a daily schedule for this provider.', { pointer: '/data/attributes/provider_id' });
    }
    const tick: JobData<typeof TICK> = { tenantId: tenantScope().tenantId, taskId: null, args: { providerId } };
    await this.outbox.write({
      operation: 'upsert-scheduler',
      queue: JOB_DEFINITIONS[TICK].queue,
      jobName: TICK,
      jobId: dailySchedulerId(providerId),
      payload: tick,
      options: { everyMs: EVERY_HOURS * HOUR_MS, startAt: startsAt, template: { attempts: JOB_DEFINITIONS[TICK].attempts, backoff: { type: TASK_BACKOFF } } },
    });
    return this.scans.start(providerId, 'scheduled', 'Daily scheduled scan');
  }

  async list(query: ParsedQuery): Promise<{ rows: DailyScheduleRow[]; count: number }> {
    const visible = currentPrincipal().visibleProviderIds;
    const params: unknown[] = [visible === null ? null : [...visible]];
    const where = ['($1::uuid[] IS NULL OR s.provider_id = ANY($1))', 'p.deleted_at IS NULL'];
    for (const filter of query.filters) {
      params.push(filter.value);
      where.push(filter.operator === 'in' ? `s.provider_id = ANY($${params.length})` : `s.provider_id = $${params.length}`);
    }
    const condition = where.join(' AND ');
    const order = query.sort.map((s) => `s.${s.field} ${s.descending ? 'DESC' : 'ASC'}`).concat('s.id ASC').join(', ');
    const { limit, offset } = limitOffset(query.page);
    const from = `FROM scan_schedules s JOIN providers p ON p.id = s.provider_id WHERE ${condition}`;
    const listed = await rows<DailyScheduleRow>(
      tenantManager(),
      `SELECT s.id, s.provider_id, s.every_hours, s.starts_at, s.inserted_at,
              s.starts_at + greatest(0, ceil(extract(epoch FROM now() - s.starts_at) / (s.every_hours * 3600)))
                            * s.every_hours * interval '1 hour' AS next_run_at
         ${from} ORDER BY ${order} ${limit === null ? '' : `LIMIT ${limit} OFFSET ${offset}`}`,
      params,
    );
    const [counted] = await rows<{ count: string }>(tenantManager(), `SELECT count(*) AS count ${from}`, params);
    return { rows: listed, count: Number(counted.count) };
  }

  async exists(providerId: string): Promise<boolean> {
    return (await rows(tenantManager(), `SELECT 1 FROM scan_schedules WHERE provider_id = $1`, [providerId])).length > 0;
  }

  /** Removes the provider's schedule, if any, with its BullMQ job scheduler (after commit, through the outbox). */
  async removeForProvider(providerId: string): Promise<void> {
    const removed = await rows(tenantManager(), `DELETE FROM scan_schedules WHERE provider_id = $1 RETURNING id`, [providerId]);
    if (removed.length === 0) return;
    await this.outbox.write({ operation: 'remove-scheduler', queue: JOB_DEFINITIONS[TICK].queue, jobId: dailySchedulerId(providerId) });
  }
}
