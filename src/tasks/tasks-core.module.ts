import { Global, Module } from '@nestjs/common';
import { TaskCancelBus } from './cancel/task-cancel-bus';
import { OutboxDispatcher } from './outbox/outbox-dispatcher';
import { OutboxRelay } from './outbox/outbox-relay';
import { OutboxWriter } from './outbox/outbox-writer';
import { QueueRegistry } from './queue/queue-registry';
import { ScanStarter } from './scans/scan-starter';
import { DailySchedulesService } from './schedules/daily-schedules.service';
import { TasksRepository } from './tasks.repository';
import { TasksService } from './tasks.service';

/**
 * What the API and the workers share: enqueueing (task rows, the outbox and
 * its relay, which runs in every process), the queues, cancel messages, and
 * the scan and schedule services jobs also use. Global, so any feature can
 * inject TasksService to start background work.
 */
@Global()
@Module({
  providers: [QueueRegistry, OutboxDispatcher, OutboxRelay, OutboxWriter, TaskCancelBus, TasksRepository, TasksService, ScanStarter, DailySchedulesService],
  exports: [QueueRegistry, OutboxRelay, TaskCancelBus, TasksRepository, TasksService, ScanStarter, DailySchedulesService],
})
export class TasksCoreModule {}
