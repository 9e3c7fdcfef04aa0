import { Module } from '@nestjs/common';
import { AppModule } from './app.module';
import { WorkerModule } from './worker.module';

/** The API plus, when WORKERS_IN_PROCESS is set, the background processors in the same process. */
@Module({ imports: [AppModule, WorkerModule.inProcessWhenConfigured()] })
export class LocalAppModule {}
