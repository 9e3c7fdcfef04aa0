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
    const scan = await this.readableScan(scanId);
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

  /**
   * The scan, if the caller may read it and its provider: visible to their
   * role, live, and inside the row filter rules on scans and on providers
   * (the zip names both), as GET /scans/{id} and /providers/{id} decide.
   */
  async readableScan(scanId: string): Promise<{ provider_id: string; provider_type: string } | undefined> {
    const conditions = new SqlConditions();
    conditions.add(`s.id = ${conditions.param(scanId)}::uuid`);
    conditions.add(`s.provider_id = ANY(${providerScopeSql(conditions, [])})`);
    for (const [dataset, alias] of [['scans', 's'], ['providers', 'p']] as const) {
      const offset = conditions.params.length;
      const predicate = await this.rowFilter.predicate(dataset, alias, offset);
      if (predicate) conditions.addBound(predicate, offset);
    }
    const [scan] = await rows<{ provider_id: string; provider_type: string }>(
      tenantManager(),
      `SELECT s.provider_id, p.provider AS provider_type FROM scans s JOIN providers p ON p.id = s.provider_id ${conditions.where()}`,
      conditions.params,
    );
    return scan;
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
