import { Module } from '@nestjs/common';
import { ProvidersModule } from '../providers/providers.module';
import { ProviderLifecycleController } from './provider-lifecycle.controller';
import { ProviderLifecycleService } from './provider-lifecycle.service';
import { DailySchedulesController } from './schedules/daily-schedules.controller';
import { TasksController } from './tasks.controller';
import { TasksCoreModule } from './tasks-core.module';

/** The API side of background work: the tasks, daily-schedule and provider lifecycle endpoints. */
@Module({
  imports: [TasksCoreModule, ProvidersModule],
  controllers: [TasksController, DailySchedulesController, ProviderLifecycleController],
  providers: [ProviderLifecycleService],
})
export class TasksModule {}
