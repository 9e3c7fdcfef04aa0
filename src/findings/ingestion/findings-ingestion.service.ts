import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { FindingPartitionsService } from '../storage/finding-partitions.service';
import { CheckCatalog } from '../checks/check-catalog';
import { CheckFactsOf, EncodedBatch, ingestBatch, writeBatch } from './ingest-batch';
import { BatchResult, IngestionRecord, IngestionScan } from './ingestion-record';
import { discardUnpublishedScan, publishScan, TenantStep, unpublishedLeftovers } from './scan-publication';

@Injectable()
export class FindingsIngestionService {
  private readonly factsOf: CheckFactsOf;

  constructor(
    private readonly partitions: FindingPartitionsService,
    checks: CheckCatalog,
  ) {
    this.factsOf = (checkId) => checks.factsOf(checkId);
  }

  /**
   * Call before the scan's first tenant transaction: makes sure the month
   * partition its finding ids fall in exists (DDL cannot wait inside the
   * transaction that will write to it).
   */
  async prepareScan(scan: IngestionScan): Promise<void> {
    await this.partitions.ensureMonthOf(scan.scanStartedAt);
  }

  /** One batch, inside the caller's tenant transaction (see writeBatch). */
  ingestBatch(manager: EntityManager, scan: IngestionScan, records: readonly IngestionRecord[]): Promise<BatchResult> {
    return ingestBatch(manager, scan, records, this.factsOf);
  }

  /** Writes a batch encoded ahead of its transaction (encodeBatch), inside the caller's tenant transaction. */
  writeBatch(manager: EntityManager, scan: IngestionScan, batch: EncodedBatch): Promise<BatchResult> {
    return writeBatch(manager, scan, batch, this.factsOf);
  }

  /** Makes every batch written of the scan visible at once, inside the caller's tenant transaction (see publishScan). */
  publishScan(manager: EntityManager, scan: IngestionScan): Promise<boolean> {
    return publishScan(manager, scan);
  }

  /**
   * Removes, `batchSize` rows per transaction, what unpublished scans left of
   * the provider's: an earlier attempt of `scan`, and scans that stopped
   * executing without being published or cleaned up.
   */
  async discardLeftovers(run: TenantStep, scan: IngestionScan, batchSize: number): Promise<void> {
    for (const left of await run((m) => unpublishedLeftovers(m, scan.providerId, scan.scanId))) {
      await discardUnpublishedScan(run, scan.tenantId, left, batchSize);
    }
  }

  /** Removes what the unpublished `scan` wrote, `batchSize` rows per transaction. */
  discard(run: TenantStep, scan: IngestionScan, batchSize: number): Promise<void> {
    return discardUnpublishedScan(run, scan.tenantId, { scanId: scan.scanId, startedAt: scan.scanStartedAt }, batchSize);
  }
}
