import { Inject, Injectable } from '@nestjs/common';
import { FileHandle, open } from 'node:fs/promises';
import { ApiError } from '../../common/errors/api-error';
import { rows } from '../../database/sql';
import { tenantManager, tenantScope } from '../../database/tenant-context';
import { TaskRow } from '../../tasks/task.resource';
import { providerScopeSql } from '../query/provider-scope';
import { ROW_FILTER_SOURCE, RowFilterSource } from '../query/row-filter-source';
import { SqlConditions } from '../query/sql-conditions';
import { unfinishedScanTask } from '../scans/scan-follow-up-task';
import { reportScan } from './report-findings';
import { ReportStorage } from './report-storage';
import { writeScanReport } from './scan-report-writer';

/** A report to send: an open file, and whether it was built for this one request (and goes once sent). */
export interface ReportFile {
  file: FileHandle;
  path: string | null;
}

export type ReportAnswer = { task: TaskRow } | ReportFile;

/**
 * What `GET /scans/{id}/report` answers: the scan's zip, the pending
 * report task (202), or 404 when the scan is not visible or has no report.
 * A caller with row filter rules on findings never gets the tenant-wide
 * zip: theirs is built now from the findings they may see, inside the
 * request's transaction, into a file sent once the transaction is over.
 */
@Injectable()
export class ScanReportsService {
  constructor(
    private readonly storage: ReportStorage,
    @Inject(ROW_FILTER_SOURCE) private readonly rowFilter: RowFilterSource,
  ) {}

  async report(scanId: string): Promise<ReportAnswer> {
    const manager = tenantManager();
    const conditions = new SqlConditions();
    const [scan] = await rows<{ provider_id: string }>(
      manager,
      `SELECT s.provider_id FROM scans s WHERE s.id = ${conditions.param(scanId)}::uuid AND s.provider_id = ANY(${providerScopeSql(conditions, [])})`,
      conditions.params,
    );
    if (!scan) throw ApiError.notFound('No scan with this id.');

    const filtered = (await this.rowFilter.predicate('findings', 'f', 0)) !== null;
    const published = await this.storage.open(tenantScope().tenantId, scanId);
    if (!published) {
      const task = await unfinishedScanTask(manager, 'scan-report', scanId, scan.provider_id);
      if (task) return { task };
      throw ApiError.notFound('The scan has no report, and none is being built.');
    }
    if (!filtered) return { file: published, path: null };
    await published.close();
    return this.buildForCaller(scanId);
  }

  private async buildForCaller(scanId: string): Promise<ReportFile> {
    const scan = await reportScan(tenantManager(), scanId);
    if (!scan) throw ApiError.notFound('No scan with this id.');
    const path = await this.storage.workingPath();
    try {
      await writeScanReport(path, scan, {
        inTenant: (fn) => fn(tenantManager()),
        predicateAt: (offset) => this.rowFilter.predicate('findings', 'f', offset),
      });
      return { file: await open(path, 'r'), path };
    } catch (error) {
      await this.storage.discard(path);
      throw error;
    }
  }
}
