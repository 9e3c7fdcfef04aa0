import { Inject, Injectable } from '@nestjs/common';
import { FileHandle, open } from 'node:fs/promises';
import { join } from 'node:path';
import { ApiError } from '../../../common/errors/api-error';
import { tenantManager, tenantScope } from '../../../database/tenant-context';
import { TaskRow } from '../../../tasks/task.resource';
import { FrameworkCatalog } from '../../compliance/frameworks/framework-catalog';
import { ROW_FILTER_SOURCE, RowFilterSource } from '../../query/row-filter-source';
import { unfinishedScanTask } from '../../scans/scan-follow-up-task';
import { reportScan } from '../report-findings';
import { ReportStorage } from '../report-storage';
import { ScanReportsService } from '../scan-reports.service';
import { buildComplianceReports, ComplianceArtifact } from './compliance-reports-builder';
import { complianceFiles, pdfFramework } from './compliance-report-files';

/** A compliance report to send: an open file, its name, and the folder built for this one request (removed once sent). */
export interface ComplianceReportFile {
  file: FileHandle;
  fileName: string;
  builtFolder: string | null;
}

/**
 * What the compliance report routes answer: the file the `scan-report` job
 * wrote, its pending task (202), or 404 (scan not visible, no framework of
 * that name loaded for the scan's provider type, no report and none being
 * built). A caller with row filter rules on findings gets the report built
 * now from the findings they may see.
 */
@Injectable()
export class ComplianceReportsService {
  constructor(
    private readonly reports: ScanReportsService,
    private readonly storage: ReportStorage,
    private readonly catalog: FrameworkCatalog,
    @Inject(ROW_FILTER_SOURCE) private readonly rowFilter: RowFilterSource,
  ) {}

  async report(scanId: string, artifact: ComplianceArtifact): Promise<{ task: TaskRow } | ComplianceReportFile> {
    const scan = await this.reports.readableScan(scanId);
    if (!scan) throw ApiError.notFound('No scan with this id.');
    const frameworks = this.catalog.frameworksOf(scan.provider_type);
    let fileName: string;
    if (artifact.format === 'pdf') {
      const framework = pdfFramework(artifact.kind, frameworks);
      if (!framework) throw ApiError.notFound(`No ${artifact.kind} framework is loaded for ${scan.provider_type} scans.`);
      fileName = complianceFiles.pdf(artifact.kind);
    } else {
      const framework = frameworks?.get(artifact.complianceId);
      if (!framework) throw ApiError.notFound(`No compliance framework named ${JSON.stringify(artifact.complianceId.slice(0, 40))} is loaded for ${scan.provider_type} scans.`);
      if (artifact.format === 'ocsf' && !framework.ocsfExport) throw ApiError.notFound('This framework has no OCSF export.');
      fileName = artifact.format === 'csv' ? complianceFiles.csv(framework) : complianceFiles.ocsf(framework);
    }
    const published = await this.storage.openCompliance(tenantScope().tenantId, scanId, fileName);
    if (!published) {
      const task = await unfinishedScanTask(tenantManager(), 'scan-report', scanId, scan.provider_id);
      if (task) return { task };
      throw ApiError.notFound('The scan has no such report, and none is being built.');
    }
    if ((await this.rowFilter.predicate('findings', 'f', 0)) === null) return { file: published, fileName, builtFolder: null };
    await published.close();
    return this.buildForCaller(scanId, artifact, fileName);
  }

  private async buildForCaller(scanId: string, artifact: ComplianceArtifact, fileName: string): Promise<ComplianceReportFile> {
    const scan = await reportScan(tenantManager(), scanId);
    const frameworks = scan ? this.catalog.frameworksOf(scan.provider_type) : null;
    if (!scan || !frameworks) throw ApiError.notFound('No scan with this id.');
    const folder = await this.storage.workingFolder();
    try {
      await buildComplianceReports(folder, scan, frameworks, {
        inTenant: (fn) => fn(tenantManager()),
        predicateAt: (offset) => this.rowFilter.predicate('findings', 'f', offset),
      }, artifact);
      return { file: await open(join(folder, fileName), 'r'), fileName, builtFolder: folder };
    } catch (error) {
      await this.storage.discardFolder(folder);
      throw error;
    }
  }
}
