import { Global, Module } from '@nestjs/common';
import { BullModule } from '@nestjs/bullmq';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { TaskCancelBus } from './cancel/task-cancel-bus';
import { OutboxDispatcher } from './outbox/outbox-dispatcher';
import { OutboxRelay } from './outbox/outbox-relay';
import { OutboxWriter } from './outbox/outbox-writer';
import type { ConnectionOptions } from 'bullmq';
import { queueNamespace } from './queue/bullmq-connection';
import { PRODUCER_CONNECTION, QueueConnectionModule } from './queue/queue-connection.module';
import { QueueRegistry, queueRegistryProvider } from './queue/queue-registry';
import { QUEUE_NAMES } from './queue-names';
import { ScanStarter } from './scans/scan-starter';
import { DailySchedulesService } from './schedules/daily-schedules.service';
import { TasksRepository } from './tasks.repository';
import { TasksService } from './tasks.service';
import { WorkflowStarter } from './workflows/workflow-starter';

/**
 * What the API and the workers share: enqueueing (task rows, the outbox and
 * its relay, which runs in every process), the queues, cancel messages, and
 * the scan and schedule services jobs also use. Global, so any feature can
 * inject TasksService to start background work.
 */
@Global()
@Module({
  imports: [
    // Producer connections, keys under REDIS_PREFIX; processors (WorkerModule) bring their own worker connections.
    BullModule.forRootAsync({
      imports: [QueueConnectionModule],
      inject: [APP_CONFIG, PRODUCER_CONNECTION],
      useFactory: (config: AppConfig, connection: ConnectionOptions) => ({ connection, prefix: queueNamespace(config) }),
    }),
    BullModule.registerQueue(...QUEUE_NAMES.map((name) => ({ name }))),
  ],
  providers: [queueRegistryProvider, OutboxDispatcher, OutboxRelay, OutboxWriter, TaskCancelBus, TasksRepository, TasksService, WorkflowStarter, ScanStarter, DailySchedulesService],
  exports: [QueueRegistry, OutboxRelay, TaskCancelBus, TasksRepository, TasksService, WorkflowStarter, ScanStarter, DailySchedulesService],
})
export class TasksCoreModule {}
