import { Module } from '@nestjs/common';
import { ReportStorage } from '../findings/reports/report-storage';
import { IntegrationConnectionCheckHandler } from './integration-connection-check.handler';
import { IntegrationCredentials } from './integration-credentials';
import { IntegrationTargets } from './integration-targets';
import { JiraDispatchHandler } from './jira-dispatch.handler';
import { ScanIntegrationsHandler } from './scan-integrations.handler';

/** The `integrations` queue's handlers: deliveries after scans, connection checks and Jira dispatches. */
@Module({
  providers: [IntegrationCredentials, IntegrationTargets, ReportStorage, ScanIntegrationsHandler, IntegrationConnectionCheckHandler, JiraDispatchHandler],
})
export class IntegrationsWorkerModule {}
