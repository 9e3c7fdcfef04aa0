import { Module } from '@nestjs/common';
import { AppModule } from './app.module';
import { WorkerModule } from './worker.module';

/**
 * What an API process runs (`start:prod` and `npm start` alike): the API plus,
 * when WORKERS_IN_PROCESS is set, the background processors in the same process.
 */
@Module({ imports: [AppModule, WorkerModule.inProcessWhenConfigured()] })
export class LocalAppModule {}
