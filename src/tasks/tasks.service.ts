import { Inject, Injectable } from '@nestjs/common';
import { ApiError } from '../common/errors/api-error';
import { ParsedQuery } from '../common/jsonapi/query-spec';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { afterCommit, currentPrincipal, tenantScope } from '../database/tenant-context';
import { newId } from '../database/uuid';
import { TaskCancelBus } from './cancel/task-cancel-bus';
import { JOB_DEFINITIONS, JobData, JobName, JobRequest } from './jobs/job-definitions';
import { TASK_BACKOFF } from './jobs/retry-backoff';
import { OutboxWriter } from './outbox/outbox-writer';
import { queueNamespace } from './queue/bullmq-connection';
import { QueueRegistry } from './queue/queue-registry';
import { QueueName } from './queue-names';
import { FINISHED_STATES, TaskRow } from './task.resource';
import { TasksRepository } from './tasks.repository';

export interface EnqueueOptions {
  /** Start no sooner than this; the task shows `scheduled` until then. */
  delayMs?: number;
  metadata?: Record<string, unknown>;
  /** An idempotency key: enqueuing the same id twice yields the first task and no second job. */
  id?: string;
  /** The job stays in the outbox until released (one scan per provider: see ScanStarter); the task shows `available`. */
  held?: boolean;
}

/**
 * Tasks for features and for the tasks endpoints. `enqueue` works in the
 * current request or job transaction: the task row and its outbox row commit
 * with the caller's own writes, or neither does.
 */
@Injectable()
export class TasksService {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly tasks: TasksRepository,
    private readonly outbox: OutboxWriter,
    private readonly queues: QueueRegistry,
    private readonly cancelBus: TaskCancelBus,
  ) {}

  async enqueue(request: JobRequest, options: EnqueueOptions = {}): Promise<TaskRow> {
    const definition = JOB_DEFINITIONS[request.name];
    if (definition.testOnly && !this.config.tasks.testJobs) throw new Error(`Job '${request.name}' exists only with TEST_JOBS=true`);
    const id = options.id ?? newId();
    const providerId = 'providerId' in request.args ? request.args.providerId : null;
    const inserted = await this.tasks.insert({
      id,
      name: request.name,
      queue: definition.queue,
      queueNamespace: queueNamespace(this.config),
      state: options.delayMs ? 'scheduled' : 'available',
      providerId,
      args: request.args,
      metadata: options.metadata ?? {},
    });
    if (!inserted) return (await this.tasks.find(id))!;
    const data: JobData = { tenantId: tenantScope().tenantId, taskId: id, args: request.args };
    await this.outbox.write({
      operation: 'add-job',
      queue: definition.queue,
      jobName: request.name,
      jobId: id,
      payload: data,
      options: { attempts: definition.attempts, backoff: { type: TASK_BACKOFF }, ...(options.delayMs ? { delay: options.delayMs } : {}) },
      held: options.held,
    });
    return inserted;
  }

  /** Tasks the caller may see: every one with unlimited visibility, else those of their visible providers. */
  list(query: ParsedQuery): Promise<{ rows: TaskRow[]; count: number }> {
    return this.tasks.list(query, currentPrincipal().visibleProviderIds);
  }

  async get(id: string): Promise<TaskRow> {
    const task = await this.tasks.find(id, currentPrincipal().visibleProviderIds);
    if (!task) throw ApiError.notFound();
    return task;
  }

  /**
   * A task that has not started ends `cancelled` at once (its job is dropped
   * from the outbox or the queue, and would be refused anyway). An executing
   * one is asked to stop through its AbortSignal and ends `cancelled` when
   * its worker has stopped it. Cancelling needs the permission that starts
   * such a task: a member who may only read must not stop a deletion or a scan.
   */
  async cancel(id: string): Promise<TaskRow> {
    const principal = currentPrincipal();
    const task = await this.tasks.find(id, principal.visibleProviderIds, true);
    if (!task) throw ApiError.notFound();
    const definition = Object.hasOwn(JOB_DEFINITIONS, task.name) ? JOB_DEFINITIONS[task.name as JobName] : undefined;
    if (!definition) throw ApiError.forbidden('This task cannot be cancelled.');
    if (definition.cancelPermission && !principal.permissions.has(definition.cancelPermission)) {
      throw ApiError.forbidden(`Cancelling a ${task.name} task needs ${definition.cancelPermission}.`);
    }
    if (FINISHED_STATES.includes(task.state)) {
      throw ApiError.badRequest('invalid', `The task is already ${task.state}; only a task that has not finished can be cancelled.`);
    }
    await this.tasks.requestCancel(id);
    // Redis calls after commit are not awaited: with Redis away the answer must not wait for them, and
    // neither is needed for correctness (the row says cancelled; a worker refuses or stops the job).
    if (task.state === 'executing') {
      afterCommit(() => void this.cancelBus.publish(id));
    } else {
      await this.tasks.finish(id, 'cancelled', { outcome: 'cancelled' });
      await this.outbox.discardJob(id);
      afterCommit(() => void this.queues.removeWaiting(task.queue as QueueName, id).catch(() => 0));
    }
    return (await this.tasks.find(id))!;
  }
}
