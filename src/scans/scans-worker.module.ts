import { CheckCatalogModule } from '../findings/checks/check-catalog';
import { Module } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { FindingsIngestionService } from '../findings/ingestion/findings-ingestion.service';
import { FindingPartitionsService } from '../findings/storage/finding-partitions.service';
import { ProviderSecretsService } from '../providers/provider-secrets.service';
import { ProvidersService } from '../providers/providers.service';
import { RlsRulesModule } from '../rls-rules/rls-rules.module';
import { SCAN_ENGINE, UnconfiguredScanEngine } from '../tasks/scans/scan-engine';
import { ProwlerCliEngine } from './engines/prowler-cli.engine';
import { ScanExecution } from './execution/scan-execution.service';
import { ScanImportHandler } from './jobs/scan-import.handler';
import { ScanSpool } from './spool/scan-spool';

/**
 * The scans side of the workers: the scan engine (the Prowler CLI when
 * PROWLER_BIN is set), the import job and the shared execution steps. The
 * ingestion and secrets services are stateless and built here too, so a
 * worker process needs none of the HTTP feature modules; the secrets service
 * reaches providers through the row filter rules, hence their module.
 */
@Module({
  imports: [RlsRulesModule, CheckCatalogModule],
  providers: [
    FindingPartitionsService,
    FindingsIngestionService,
    ProvidersService,
    ProviderSecretsService,
    ScanSpool,
    ScanExecution,
    ScanImportHandler,
    {
      provide: SCAN_ENGINE,
      inject: [APP_CONFIG, ScanSpool],
      useFactory: (config: AppConfig, spool: ScanSpool) =>
        config.scans.prowlerBin ? new ProwlerCliEngine(config.scans.prowlerBin, spool, config.scans.prowlerRunAs) : new UnconfiguredScanEngine(),
    },
  ],
  exports: [ScanExecution, SCAN_ENGINE],
})
export class ScansWorkerModule {}
