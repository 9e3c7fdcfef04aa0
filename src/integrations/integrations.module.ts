import { Module } from '@nestjs/common';
import { ProvidersModule } from '../providers/providers.module';
import { TasksCoreModule } from '../tasks/tasks-core.module';
import { IntegrationCredentials } from './integration-credentials';
import { IntegrationTargets } from './integration-targets';
import { IntegrationsController } from './integrations.controller';
import { IntegrationsService } from './integrations.service';
import { JiraController } from './jira.controller';
import { JiraService } from './jira.service';

/** The integrations endpoints. Their background work is IntegrationsWorkerModule's. */
@Module({
  imports: [ProvidersModule, TasksCoreModule],
  controllers: [JiraController, IntegrationsController],
  providers: [IntegrationsService, IntegrationCredentials, IntegrationTargets, JiraService],
})
export class IntegrationsModule {}
