import { Module } from '@nestjs/common';
import { AppModule } from './app.module';

/** The API plus, when WORKERS_IN_PROCESS is set, the background processors in the same process. */
@Module({ imports: [AppModule] })
export class LocalAppModule {}
