import { CheckCatalogModule } from './checks/check-catalog';
import { Module } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { HttpEventSource, RESOURCE_EVENT_SOURCE, UnconfiguredEventSource } from './resources/events/resource-event-source';
import { ResourceEventsService } from './resources/events/resource-events.service';
import { ComplianceController } from './compliance/compliance.controller';
import { ComplianceService } from './compliance/compliance.service';
import { FindingGroupsController } from './finding-groups/finding-groups.controller';
import { FindingGroupsService } from './finding-groups/finding-groups.service';
import { FrameworkCatalogModule } from './compliance/frameworks/framework-catalog';
import { FindingsController } from './findings.controller';
import { FindingsService } from './findings.service';
import { FindingsIncludeSources } from './findings-include-sources';
import { FindingReadCache } from './query/finding-read-cache';
import { FindingsIngestionService } from './ingestion/findings-ingestion.service';
import { MuteRulesController } from './mute-rules/mute-rules.controller';
import { MuteRulesService } from './mute-rules/mute-rules.service';
import { OverviewsController } from './overviews/overviews.controller';
import { OverviewsService } from './overviews/overviews.service';
import { OverviewWidgetsService } from './overviews/overview-widgets.service';
import { ComplianceReportsController } from './reports/compliance/compliance-reports.controller';
import { ComplianceReportsService } from './reports/compliance/compliance-reports.service';
import { ReportStorage } from './reports/report-storage';
import { ScanReportsController } from './reports/scan-reports.controller';
import { ScanReportsService } from './reports/scan-reports.service';
import { ResourcesController } from './resources/resources.controller';
import { ResourcesService } from './resources/resources.service';
import { ScansModule } from '../scans/scans.module';
import { FindingsStorageModule } from './storage/findings-storage.module';
import { ThreatScoreController } from './threatscore/threatscore.controller';
import { ThreatScoreService } from './threatscore/threatscore.service';

/**
 * Findings and resources: partitioned storage, ingestion, reads, mute rules,
 * overviews, compliance and scan reports, every read under the row filter
 * rules. Exports what the scans, overview and deletion jobs call:
 * the ingestion service, the scan aggregation (scan-aggregation.ts, plain
 * functions over a tenant transaction) and, through FindingsStorageModule,
 * the partition job's service and the batched deletion.
 */
@Module({
  imports: [FindingsStorageModule, ScansModule, FrameworkCatalogModule, CheckCatalogModule],
  controllers: [FindingsController, FindingGroupsController, ResourcesController, MuteRulesController, OverviewsController, ComplianceController, ScanReportsController, ThreatScoreController, ComplianceReportsController],
  providers: [
    FindingsService,
    FindingGroupsService,
    FindingsIncludeSources,
    FindingReadCache,
    ResourcesService,
    ResourceEventsService,
    {
      provide: RESOURCE_EVENT_SOURCE,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => (config.tasks.resourceEventsUrl ? new HttpEventSource(config.tasks.resourceEventsUrl) : new UnconfiguredEventSource()),
    },
    MuteRulesService,
    OverviewsService,
    OverviewWidgetsService,
    ComplianceService,
    ThreatScoreService,
    ScanReportsService,
    ComplianceReportsService,
    ReportStorage,
    FindingsIngestionService,
  ],
  exports: [FindingsIngestionService, FindingsStorageModule],
})
export class FindingsModule {}
