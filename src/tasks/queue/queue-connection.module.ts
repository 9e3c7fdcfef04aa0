import { Inject, Injectable, Module, OnApplicationShutdown } from '@nestjs/common';
import type { ConnectionOptions } from 'bullmq';
import { AppConfig } from '../../config/app-config';
import { APP_CONFIG } from '../../config/config.module';
import { closeOpenedConnection, producerConnection } from './bullmq-connection';

export const PRODUCER_CONNECTION = Symbol('PRODUCER_CONNECTION');

/** Closes the queues' producer connection when it is a client this process opened (a cluster's). */
@Injectable()
class ProducerConnectionCloser implements OnApplicationShutdown {
  constructor(@Inject(PRODUCER_CONNECTION) private readonly connection: ConnectionOptions) {}

  async onApplicationShutdown(): Promise<void> {
    await closeOpenedConnection(this.connection);
  }
}

/** The connection every queue of this process produces on: options for one server, a client for a cluster. */
@Module({
  providers: [{ provide: PRODUCER_CONNECTION, inject: [APP_CONFIG], useFactory: (config: AppConfig) => producerConnection(config) }, ProducerConnectionCloser],
  exports: [PRODUCER_CONNECTION],
})
export class QueueConnectionModule {}
