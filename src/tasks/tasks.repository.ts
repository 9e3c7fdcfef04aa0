import { Injectable } from '@nestjs/common';
import { limitOffset } from '../common/jsonapi/paging';
import { ParsedQuery } from '../common/jsonapi/query-spec';
import { tenantManager, tenantScope } from '../database/tenant-context';
import { OpeningStatement } from '../database/rls-transaction';
import { rows } from '../database/sql';
import { isUuid } from '../database/uuid';
import { TaskRow, TaskState } from './task.resource';

const COLUMNS = 'id, name, queue, state, progress, result, task_args, metadata, provider_id, inserted_at, updated_at, completed_at';
const UNFINISHED = `('available', 'scheduled', 'executing')`;
const CLAIM_STATEMENT = 'cspm_task_claim';
const CLAIM_SQL = `UPDATE tasks SET state = 'executing', attempts = attempts + 1, started_at = COALESCE(started_at, now()), updated_at = now()
  WHERE id = $1 AND state IN ${UNFINISHED}
  RETURNING cancel_requested_at IS NOT NULL AS cancel_requested`;
const SORT_COLUMNS: Record<string, string> = { inserted_at: 'inserted_at', completed_at: 'completed_at', name: 'name', state: 'state' };

export interface NewTask {
  id: string;
  name: string;
  queue: string;
  queueNamespace: string;
  state: 'available' | 'scheduled';
  providerId: string | null;
  args: unknown;
  metadata: Record<string, unknown>;
}

/** What a worker may do with a task it picked up. */
export type Claim = 'run' | 'cancel' | 'skip';

/** null: every provider of the tenant; otherwise the providers a role may see (provider-less tasks need unlimited visibility). */
export type Visibility = ReadonlySet<string> | null;

/**
 * Every SQL statement on `tasks`, run in the current tenant transaction.
 * Writes that end a task also end the scan it drives (`scans.task_id`), so a
 * scan never stays `executing` after its task finished.
 */
@Injectable()
export class TasksRepository {
  /** Inserts the task and answers it, or answers undefined when a task with this id exists (an idempotent re-run). */
  async insert(task: NewTask): Promise<TaskRow | undefined> {
    const [inserted] = await rows<TaskRow>(
      tenantManager(),
      `INSERT INTO tasks (id, tenant_id, name, queue, queue_namespace, state, provider_id, task_args, metadata)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (id) DO NOTHING RETURNING ${COLUMNS}`,
      [task.id, tenantScope().tenantId, task.name, task.queue, task.queueNamespace, task.state, task.providerId, JSON.stringify(task.args), JSON.stringify(task.metadata)],
    );
    return inserted;
  }

  async find(id: string, visibility: Visibility = null, lock = false): Promise<TaskRow | undefined> {
    const [task] = await rows<TaskRow>(
      tenantManager(),
      `SELECT ${COLUMNS} FROM tasks WHERE id = $1 AND ($2::uuid[] IS NULL OR provider_id = ANY($2)) ${lock ? 'FOR UPDATE' : ''}`,
      [id, visibility === null ? null : [...visibility]],
    );
    return task;
  }

  async list(query: ParsedQuery, visibility: Visibility): Promise<{ rows: TaskRow[]; count: number }> {
    const params: unknown[] = [visibility === null ? null : [...visibility]];
    const where = ['($1::uuid[] IS NULL OR provider_id = ANY($1))'];
    const bind = (value: unknown) => `$${params.push(value)}`;
    for (const filter of query.filters) {
      if (filter.field === 'search') {
        const term = bind(likePattern(String(filter.value)));
        where.push(`(name ILIKE ${term} OR state ILIKE ${term})`);
      } else if (filter.operator === 'icontains') {
        where.push(`${filter.field} ILIKE ${bind(likePattern(String(filter.value)))}`);
      } else if (filter.operator === 'in') {
        where.push(`${filter.field} = ANY(${bind(filter.value)})`);
      } else {
        where.push(`${filter.field} = ${bind(filter.value)}`);
      }
    }
    const order = query.sort.map((s) => `${SORT_COLUMNS[s.field]} ${s.descending ? 'DESC' : 'ASC'} NULLS LAST`).concat('id DESC').join(', ');
    const { limit, offset } = limitOffset(query.page);
    const condition = where.join(' AND ');
    const manager = tenantManager();
    const listed = await rows<TaskRow>(
      manager,
      `SELECT ${COLUMNS} FROM tasks WHERE ${condition} ORDER BY ${order} ${limit === null ? '' : `LIMIT ${limit} OFFSET ${offset}`}`,
      params,
    );
    const [counted] = await rows<{ count: string }>(manager, `SELECT count(*) AS count FROM tasks WHERE ${condition}`, params);
    return { rows: listed, count: Number(counted.count) };
  }

  /**
   * Marks the task executing unless it already finished; a pending cancel
   * request is answered first. A statement sent with BEGIN (one round trip
   * fewer per job); `claimFromRows` reads its answer.
   */
  claimStatement(id: string): OpeningStatement {
    if (!isUuid(id)) throw new Error('claimStatement needs a task id in UUID form');
    return { name: CLAIM_STATEMENT, prepare: `PREPARE ${CLAIM_STATEMENT}(uuid) AS ${CLAIM_SQL}`, execute: `EXECUTE ${CLAIM_STATEMENT}('${id}')` };
  }

  claimFromRows(opening: Record<string, unknown>[] | undefined): Claim {
    const claimed = opening?.[0];
    if (!claimed) return 'skip';
    return claimed.cancel_requested ? 'cancel' : 'run';
  }

  /** Records progress; answers whether a cancel was requested meanwhile (so a worker that missed the message still stops). */
  async progress(id: string, percent: number): Promise<boolean> {
    const bounded = Math.max(0, Math.min(100, Math.round(percent)));
    const [row] = await rows<{ cancel_requested: boolean }>(
      tenantManager(),
      `WITH task AS (
         UPDATE tasks SET progress = $2::smallint, updated_at = now() WHERE id = $1 AND state = 'executing'
         RETURNING id, cancel_requested_at IS NOT NULL AS cancel_requested
       ), scan AS (
         UPDATE scans SET progress = $2::smallint, updated_at = now() WHERE task_id IN (SELECT id FROM task) AND state = 'executing'
       )
       SELECT cancel_requested FROM task`,
      [id, bounded],
    );
    return row?.cancel_requested === true;
  }

  async cancelRequested(id: string): Promise<boolean> {
    const [row] = await rows<{ requested: boolean }>(tenantManager(), `SELECT cancel_requested_at IS NOT NULL AS requested FROM tasks WHERE id = $1`, [id]);
    return row?.requested === true;
  }

  async requestCancel(id: string): Promise<void> {
    await tenantManager().query(`UPDATE tasks SET cancel_requested_at = COALESCE(cancel_requested_at, now()), updated_at = now() WHERE id = $1`, [id]);
  }

  /**
   * Ends the task (and its scan) unless it already ended. `seenUpdatedAt`
   * (updated_at as text, microseconds kept) makes the write conditional on
   * an unchanged row (the sweep).
   */
  async finish(id: string, state: Exclude<TaskState, 'available' | 'scheduled' | 'executing'>, result: unknown, seenUpdatedAt?: string): Promise<boolean> {
    const [row] = await rows<{ id: string }>(
      tenantManager(),
      `WITH ended AS (
         UPDATE tasks SET state = $2::varchar, result = $3::jsonb, completed_at = now(), updated_at = now(),
                progress = CASE WHEN $2::varchar = 'completed' THEN 100 ELSE progress END
          WHERE id = $1 AND state IN ${UNFINISHED} AND ($4::timestamptz IS NULL OR updated_at = $4)
          RETURNING id
       ), scan AS (
         UPDATE scans SET state = $2::varchar, completed_at = COALESCE(completed_at, now()), updated_at = now(),
                progress = CASE WHEN $2::varchar = 'completed' THEN 100 ELSE progress END
          WHERE task_id IN (SELECT id FROM ended) AND state IN ${UNFINISHED}
       )
       SELECT id FROM ended`,
      [id, state, result === undefined ? null : JSON.stringify(result), seenUpdatedAt ?? null],
    );
    return row !== undefined;
  }

  /**
   * Adds `counts` to the task's `metadata.<key>` totals, in the caller's
   * transaction: committed with the work they count, so the totals survive a
   * retry that continues where a stopped attempt left off. Answers the totals.
   */
  async tally(id: string, key: string, counts: Record<string, number>): Promise<Record<string, number>> {
    const [row] = await rows<{ totals: Record<string, number> }>(
      tenantManager(),
      `UPDATE tasks t SET metadata = t.metadata || jsonb_build_object($2::text, (
                SELECT coalesce(t.metadata -> $2::text, '{}'::jsonb) || coalesce(jsonb_object_agg(c.key, coalesce((t.metadata -> $2::text ->> c.key)::bigint, 0) + c.value::bigint), '{}'::jsonb)
                  FROM jsonb_each_text($3::jsonb) c)),
              updated_at = now()
        WHERE t.id = $1
        RETURNING t.metadata -> $2::text AS totals`,
      [id, key, JSON.stringify(counts)],
    );
    return row?.totals ?? {};
  }

  /** A transient failure with attempts left: the task waits for BullMQ's next try. */
  async retrying(id: string, error: string, attempt: number): Promise<void> {
    await tenantManager().query(
      `UPDATE tasks SET state = 'scheduled', result = $2, updated_at = now() WHERE id = $1 AND state = 'executing'`,
      [id, JSON.stringify({ retrying: true, attempt, error })],
    );
  }

  /** A worker shutting down gave the job back to the queue. */
  async handBack(id: string): Promise<void> {
    await tenantManager().query(`UPDATE tasks SET state = 'available', updated_at = now() WHERE id = $1 AND state = 'executing'`, [id]);
  }
}

function likePattern(value: string): string {
  return `%${value.replace(/[\\%_]/g, '\\$&')}%`;
}
