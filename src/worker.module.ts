import { DynamicModule, Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { AppConfig } from './config/app-config';
import { APP_CONFIG } from './config/config.module';
import { DatabaseModule } from './database/database.module';
import { ScanComplianceHandler } from './findings/compliance/scan-compliance.handler';
import { FrameworkCatalogModule } from './findings/compliance/frameworks/framework-catalog';
import { ReportRetentionHandler } from './findings/reports/report-retention.handler';
import { ReportRetentionScheduler } from './findings/reports/report-retention.scheduler';
import { ReportStorage } from './findings/reports/report-storage';
import { ScanReportHandler } from './findings/reports/scan-report.handler';
import { ScanOverviewHandler } from './findings/overviews/scan-overview.handler';
import { MetricsModule } from './metrics/metrics.module';
import { MutelistBackfillHandler } from './processors/mutelist/mutelist-backfill.handler';
import { IngestionsWorkerModule } from './ingestions/ingestions-worker.module';
import { IntegrationsWorkerModule } from './integrations/integrations-worker.module';
import { ScansWorkerModule } from './scans/scans-worker.module';
import { HttpConnector, PROVIDER_CONNECTOR, UnreachableCloudConnector } from './tasks/connection/provider-connector';
import { FindingsStorageModule } from './findings/storage/findings-storage.module';
import { ProviderDataEraser } from './tasks/deletion/provider-data-eraser';
import { TableVacuum } from './tasks/deletion/table-vacuum';
import { FindingPartitionsHandler } from './tasks/handlers/finding-partitions.handler';
import { ProviderConnectionCheckHandler } from './tasks/handlers/provider-connection-check.handler';
import { ProviderDeletionHandler } from './tasks/handlers/provider-deletion.handler';
import { ScanPerformHandler } from './tasks/handlers/scan-perform.handler';
import { ScheduledScanHandler } from './tasks/handlers/scheduled-scan.handler';
import { TenantDeletionHandler } from './tasks/handlers/tenant-deletion.handler';
import { TasksCoreModule } from './tasks/tasks-core.module';
import { TestNoopHandler } from './tasks/testing/test-noop.handler';
import { TestProbeHandler } from './tasks/testing/test-probe.handler';
import { DeletionRetrySweeper } from './tasks/worker/deletion-retry-sweeper';
import { JobHandlerRegistry } from './tasks/worker/job-handler-registry';
import { QUEUE_PROCESSORS } from './tasks/worker/queue-processor';
import { runningJobsProvider } from './tasks/worker/running-jobs';
import { StaleTaskSweeper } from './tasks/worker/stale-task-sweeper';
import { WORKERS_ENABLED } from './tasks/worker/workers-enabled';

/** Test-only handlers are always built but registered only under TEST_JOBS (see JobHandlerRegistry). */
const HANDLERS = [
  ScanPerformHandler,
  ScheduledScanHandler,
  ProviderDeletionHandler,
  TenantDeletionHandler,
  ProviderConnectionCheckHandler,
  ScanComplianceHandler,
  ScanReportHandler,
  ReportRetentionHandler,
  ScanOverviewHandler,
  FindingPartitionsHandler,
  MutelistBackfillHandler,
  TestProbeHandler,
  TestNoopHandler,
];

/**
 * The queue processors (@nestjs/bullmq workers, one per queue), the handlers
 * they dispatch to, the stale-task and deletion-retry sweeps. No HTTP.
 * `npm run start:worker` runs it alone; the local start adds it to the API
 * when WORKERS_IN_PROCESS is set.
 */
@Module({})
export class WorkerModule {
  /** For worker.ts: processors always run. */
  static forWorkerProcess(): DynamicModule {
    return WorkerModule.register(() => true);
  }

  /** For the API process: processors run only with WORKERS_IN_PROCESS=true (read from the config the process loaded). */
  static inProcessWhenConfigured(): DynamicModule {
    return WorkerModule.register((config) => config.workers.inProcess);
  }

  private static register(runWhen: (config: AppConfig) => boolean): DynamicModule {
    return {
      module: WorkerModule,
      // Not the API's PLATFORM_MODULES: a worker needs no HTTP-side module loaded (and boots faster without).
      imports: [DatabaseModule, TasksCoreModule, DiscoveryModule, ScansWorkerModule, IngestionsWorkerModule, IntegrationsWorkerModule, FindingsStorageModule, MetricsModule, FrameworkCatalogModule],
      providers: [
        { provide: WORKERS_ENABLED, inject: [APP_CONFIG], useFactory: runWhen },
        {
          provide: PROVIDER_CONNECTOR,
          inject: [APP_CONFIG],
          useFactory: (config: AppConfig) =>
            config.tasks.connectionCheckUrl ? new HttpConnector(config.tasks.connectionCheckUrl) : new UnreachableCloudConnector(),
        },
        JobHandlerRegistry,
        ...QUEUE_PROCESSORS,
        runningJobsProvider,
        StaleTaskSweeper,
        DeletionRetrySweeper,
        ProviderDataEraser,
        ReportStorage,
        ReportRetentionScheduler,
        TableVacuum,
        ...HANDLERS,
      ],
    };
  }
}
