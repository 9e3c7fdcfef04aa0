import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { FindingPartitionsService } from '../storage/finding-partitions.service';
import { CheckCatalog } from '../checks/check-catalog';
import { CheckFactsOf, EncodedBatch, ingestBatch, writeBatch } from './ingest-batch';
import { BatchResult, IngestionRecord, IngestionScan } from './ingestion-record';

/**
 * Records per batch. A batch pays a fixed cost whatever its size (about a
 * dozen statements, truncating the staging tables, moving the provider's
 * findings version, and hashing the links of the tenant's tags to prune
 * stale ones): at 2,000 those took about 15 % of a 100,000-finding
 * import, at 10,000 about 3 % (README, Performance). The reader's first
 * batch is smaller, so writing starts early.
 */
export const INGESTION_BATCH_SIZE = 10_000;

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
}
