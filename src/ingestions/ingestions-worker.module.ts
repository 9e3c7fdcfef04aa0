import { Module } from '@nestjs/common';
import { ProvidersService } from '../providers/providers.service';
import { RbacModule } from '../rbac/rbac.module';
import { RlsRulesModule } from '../rls-rules/rls-rules.module';
import { ScanSpool } from '../scans/spool/scan-spool';
import { ScanIngestionHandler } from './scan-ingestion.handler';

/**
 * The workers' side of CLI pushes: the job that turns a pushed file into a
 * provider's scan. It acts as the pushing user, hence the principal loader
 * (RbacModule), which a worker process does not otherwise load.
 */
@Module({
  imports: [RbacModule, RlsRulesModule],
  providers: [ProvidersService, ScanSpool, ScanIngestionHandler],
})
export class IngestionsWorkerModule {}
