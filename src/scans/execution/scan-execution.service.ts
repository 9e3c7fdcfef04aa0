import { Inject, Injectable, Logger } from '@nestjs/common';
import { stat } from 'node:fs/promises';
import type { EntityManager } from 'typeorm';
import { AppConfig } from '../../config/app-config';
import { APP_CONFIG } from '../../config/config.module';
import { affected, rows } from '../../database/sql';
import { tenantManager, tenantScope } from '../../database/tenant-context';
import { FindingsIngestionService } from '../../findings/ingestion/findings-ingestion.service';
import { IngestionScan } from '../../findings/ingestion/ingestion-record';
import { TenantStep } from '../../findings/ingestion/scan-publication';
import { idRangeOfMs } from '../../findings/storage/finding-ids';
import { readingWholeScan } from '../../findings/storage/whole-scan-reads';
import { tenantMutelist } from '../../processors/mutelist/tenant-mutelist';
import { ProviderSecretsService } from '../../providers/provider-secrets.service';
import { deterministicId } from '../../tasks/jobs/deterministic-id';
import { JobRequest } from '../../tasks/jobs/job-definitions';
import { JobOutcomeError, SHUTDOWN_REASON } from '../../tasks/jobs/job-errors';
import { TenantJobContext } from '../../tasks/jobs/job-context';
import { AFTER_SCAN_WORKFLOW } from '../../tasks/jobs/workflows';
import { ScanTarget } from '../../tasks/scans/scan-engine';
import { WorkflowStarter } from '../../tasks/workflows/workflow-starter';
import { BadRecord, OcsfFormatError } from '../ocsf/ocsf-stream-reader';
import { forEachEncodedBatch } from './encoded-ocsf-batches';
import { withScanRunLock } from './scan-run-lock';

/** A scan its job has marked executing. `startedAt` stays the same on every attempt: finding ids derive from it. */
export interface StartedScan extends ScanTarget {
  tenantId: string;
  startedAt: Date;
}

/** What a scan's task result says about its ingestion. */
export interface ScanIngestionResult {
  scan_id: string;
  findings: number;
  unique_resource_count: number;
  records_read: number;
  /** Records lacking a required field: counted, the first ones described, and left out. */
  records_skipped: number;
  skipped_records: Array<{ index: number; line: number; finding_uid?: string; problems: string[] }>;
}

interface StartedRow {
  provider: string;
  uid: string;
  provider_id: string;
  started_at: Date;
}

/**
 * The steps every scan job shares, whatever produced its OCSF output (an
 * upload or an engine): marking the scan executing, and storing its results.
 */
@Injectable()
export class ScanExecution {
  private readonly logger = new Logger('ScanExecution');

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly findings: FindingsIngestionService,
    private readonly secrets: ProviderSecretsService,
    private readonly workflows: WorkflowStarter,
  ) {}

  /** Runs a scan job's body (begin, and all that follows) as the only attempt of it running (see withScanRunLock). */
  exclusively<T>(scanId: string, context: TenantJobContext, body: () => Promise<T>): Promise<T> {
    return withScanRunLock(this.config.database.appUrl, scanId, context.signal, body);
  }

  /**
   * Marks the scan executing (keeping the start of an earlier attempt).
   * 'completed' when an earlier attempt already stored everything and only
   * its task was left unsettled (a worker stopped in between).
   */
  async begin(scanId: string, context: TenantJobContext): Promise<StartedScan | 'completed'> {
    return context.inTenant(async () => {
      const [started] = await rows<StartedRow>(
        tenantManager(),
        `WITH started AS (
           UPDATE scans SET state = 'executing', started_at = COALESCE(started_at, now()), updated_at = now()
            WHERE id = $1 AND state IN ('available', 'scheduled', 'executing') RETURNING provider_id, started_at
         )
         SELECT p.provider, p.uid, started.provider_id, started.started_at FROM started JOIN providers p ON p.id = started.provider_id`,
        [scanId],
      );
      if (started) {
        const { tenantId } = tenantScope();
        return { scanId, tenantId, providerId: started.provider_id, provider: started.provider, uid: started.uid, startedAt: started.started_at };
      }
      const [scan] = await rows<{ state: string }>(tenantManager(), `SELECT state FROM scans WHERE id = $1`, [scanId]);
      if (scan?.state === 'completed') return 'completed';
      throw new JobOutcomeError('scan_missing', 'The scan was removed or had already ended.');
    });
  }

  /** The provider's decrypted credentials, for an engine that needs them; never logged, never stored elsewhere. */
  credentials(providerId: string, context: TenantJobContext): Promise<Record<string, unknown> | null> {
    return context.inTenant(() => this.secrets.credentialsFor(providerId));
  }

  /**
   * Stores the findings of a Prowler OCSF file (plain or gzipped) as the
   * scan's results and completes the scan. Each batch is written in a
   * transaction of its own, out of readers' sight; one last short
   * transaction publishes the scan (findings, latest state, totals and new
   * resources become visible together), completes it and enqueues its
   * follow-up steps (AFTER_SCAN_WORKFLOW) through the outbox. No transaction
   * spans the import, so a long one holds back no VACUUM. A file that turns
   * out bad halfway, a cancel or a failure removes what the batches wrote;
   * a retried job starts clean, removing what an earlier attempt left (a
   * worker that died, or one shut down mid-import, leaves it in place).
   *
   * Progress runs from `fromPercent` to 99 with the bytes read; 100 comes
   * with completion.
   */
  async ingestFile(scan: StartedScan, file: string, context: TenantJobContext, fromPercent = 0): Promise<ScanIngestionResult> {
    const ingestionScan: IngestionScan = { tenantId: scan.tenantId, scanId: scan.scanId, providerId: scan.providerId, scanStartedAt: scan.startedAt };
    await this.findings.prepareScan(ingestionScan);
    const size = Math.max(1, (await stat(file)).size);
    const inTenant: TenantStep = (step) => context.inTenant(step);
    await this.findings.discardLeftovers(inTenant, ingestionScan, this.config.tasks.deletionBatchSize);

    try {
      const options = {
        // Read once, before the first batch: the whole file is muted by one version of the Mutelist.
        mutelist: await context.inTenant((manager) => tenantMutelist(manager, scan.provider)),
        expectedProvider: scan.provider,
        expectedAccount: accountOf(scan),
        batchSize: this.config.scans.ingestionBatchSize,
        maxDecompressedBytes: this.config.scans.importMaxDecompressedBytes,
        maxRecordChars: this.config.scans.recordMaxBytes,
      };
      let findings = 0;
      let shownPercent = fromPercent;
      // The next batch is read, parsed and encoded on the worker thread while the database writes this one.
      const summary = await forEachEncodedBatch(file, options, ingestionScan, async (batch) => {
        context.signal.throwIfAborted();
        await context.inTenant((manager) => this.findings.writeBatch(manager, ingestionScan, batch.encoded));
        findings += batch.records;
        const percent = Math.min(99, fromPercent + Math.floor(((99 - fromPercent) * batch.progress.inputBytesRead) / size));
        if (percent > shownPercent) {
          shownPercent = percent;
          await context.progress(percent);
        }
      }, this.config.scans.encodingThreadHeapMb);
      context.signal.throwIfAborted();
      const uniqueResources = await context.inTenant((manager) => uniqueResourceCount(manager, scan));
      await context.inTenant((manager) => this.publish(manager, scan, ingestionScan, uniqueResources));
      return {
        scan_id: scan.scanId,
        findings,
        unique_resource_count: uniqueResources,
        records_read: summary.recordsRead,
        records_skipped: summary.recordsSkipped,
        skipped_records: summary.skipped.map(describeSkipped),
      };
    } catch (error) {
      await this.discardAfterFailure(inTenant, ingestionScan, context);
      if (error instanceof OcsfFormatError) throw new JobOutcomeError('invalid_file', `The file was not imported. ${error.message}.`);
      throw error;
    }
  }

  /**
   * Removes what the failed or cancelled import wrote. Not at shutdown: the
   * job goes back to the queue, and its next attempt starts clean anyway.
   * A removal that fails too is left to that next attempt, or to the
   * provider's next import (discardLeftovers); readers never see the rows.
   */
  private async discardAfterFailure(inTenant: TenantStep, scan: IngestionScan, context: TenantJobContext): Promise<void> {
    if (context.signal.reason === SHUTDOWN_REASON) return;
    try {
      await this.findings.discard(inTenant, scan, this.config.tasks.deletionBatchSize);
    } catch (error) {
      this.logger.warn(`scan ${scan.scanId}: its unpublished rows stay until the provider's next import (${(error as Error).message})`);
    }
  }

  /**
   * Publishes the scan and completes it, in one transaction, with its
   * follow-up workflow. Ending the scan also releases the provider's next
   * waiting scan (the scans trigger). A scan something else ended meanwhile
   * (the stale-task sweep took its worker for lost) is not published: its
   * rows are discarded.
   */
  private async publish(manager: EntityManager, scan: StartedScan, ingestionScan: IngestionScan, uniqueResources: number): Promise<void> {
    const completed = await affected(
      manager,
      `UPDATE scans SET state = 'completed', progress = 100, completed_at = now(), updated_at = now(), unique_resource_count = $2
        WHERE id = $1 AND state = 'executing'`,
      [scan.scanId, uniqueResources],
    );
    if (completed === 0) throw new JobOutcomeError('scan_ended', 'The scan was ended by something else while its results were being stored; none were kept.');
    await this.findings.publishScan(manager, ingestionScan);
    // The steps' ids derive from the scan: a scan completes once, but a second start would add nothing either.
    const args = { scanId: scan.scanId, providerId: scan.providerId };
    const stages = AFTER_SCAN_WORKFLOW.map((stage) => stage.map((name) => ({ name, args }) as JobRequest));
    await this.workflows.start(stages, (request) => deterministicId('after-scan', request.name, scan.scanId));
  }
}

/**
 * The distinct resources of a scan's findings, counted before publication.
 * The scan's findings were just written, so the partition's statistics do
 * not know them yet, and the planner expects one finding: given a plain join
 * it would scan every link of the tenant once per finding (quadratic: a
 * 20,000-finding import, retried over the dead rows of a killed attempt, ran
 * into the statement timeout), and a probe per finding visits the links in
 * random order. The links of the scan's id range and the scan's findings are
 * each read in heap order and joined by hashing instead (readingWholeScan),
 * whatever the estimates; the range may hold links of another scan that
 * started in the same millisecond, which the join leaves out.
 */
export async function uniqueResourceCount(manager: EntityManager, scan: Pick<StartedScan, 'scanId' | 'startedAt'>): Promise<number> {
  const range = idRangeOfMs(Math.floor(scan.startedAt.getTime()));
  const [row] = await readingWholeScan(manager, () =>
    rows<{ n: number }>(
      manager,
      `SELECT count(*)::int AS n FROM (
         SELECT DISTINCT l.resource_id
           FROM findings f
           JOIN resource_finding_links l ON l.tenant_id = f.tenant_id AND l.finding_id = f.id
          WHERE f.scan_id = $1 AND f.id >= $2::uuid AND f.id < $3::uuid AND l.finding_id >= $2::uuid AND l.finding_id < $3::uuid
       ) scan_resources`,
      [scan.scanId, range.from, range.to],
    ),
  );
  return row.n;
}

function describeSkipped(record: BadRecord): ScanIngestionResult['skipped_records'][number] {
  return { index: record.index, line: record.line, ...(record.findingUid ? { finding_uid: record.findingUid } : {}), problems: record.problems };
}

/**
 * The account a provider's findings must name. An AWS provider's uid is its
 * account id, which Prowler writes as cloud.account.uid. Other providers'
 * uids are not always what Prowler writes there (a Microsoft 365 provider is
 * known by its domain, its findings by the tenant id), so they are not compared.
 */
function accountOf(scan: StartedScan): string | undefined {
  return scan.provider === 'aws' ? scan.uid : undefined;
}
