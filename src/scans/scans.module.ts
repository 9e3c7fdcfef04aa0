import { Module } from '@nestjs/common';
import { ProvidersModule } from '../providers/providers.module';
import { ScanIncludeSources } from './scan-include-sources';
import { RlsRulesModule } from '../rls-rules/rls-rules.module';
import { ScanImportsController } from './imports/scan-imports.controller';
import { ScanImportsService } from './imports/scan-imports.service';
import { ScansController } from './scans.controller';
import { ScansRepository } from './scans.repository';
import { ScansService } from './scans.service';
import { ScanSpool } from './spool/scan-spool';
import { SpoolJanitor } from './spool/spool-janitor';

/**
 * The scans API: scans, manual starts and OCSF imports, and the janitor of
 * the spool the uploads go to. Their jobs run in the workers (ScansWorkerModule).
 */
@Module({
  // RowFilterService: the row filter rules on the `scans` dataset apply to every scan read.
  imports: [ProvidersModule, RlsRulesModule],
  // The imports controller first, so `scans/imports` is registered before `scans/:id`.
  controllers: [ScanImportsController, ScansController],
  providers: [ScansRepository, ScansService, ScanImportsService, ScanSpool, SpoolJanitor, ScanIncludeSources],
  // The findings reads render `include=scan` with the same resource and the same read rules.
  exports: [ScansRepository],
})
export class ScansModule {}
