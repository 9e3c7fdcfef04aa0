import { Injectable, Logger } from '@nestjs/common';
import { TenantDatabase } from '../../database/tenant-database';
import { JobOutcomeError } from '../../tasks/jobs/job-errors';
import { addMonths, analyzeOutgrownPartitions, createMonthPartitions, partitionsOfMonth } from './finding-partitions';

/** Months ahead of the current one the partition job keeps created. */
export const PARTITION_MONTHS_AHEAD = 2;

/**
 * Keeps the monthly partitions of findings and resource_finding_links
 * created. DDL runs as the owner role in its own transaction, with a lock
 * timeout: creating a partition waits for every open reader of the parent.
 */
@Injectable()
export class FindingPartitionsService {
  private readonly knownMonths = new Set<string>();
  private readonly logger = new Logger('FindingPartitionsService');

  constructor(private readonly database: TenantDatabase) {}

  /**
   * The scheduled partition job: the current month and the next
   * PARTITION_MONTHS_AHEAD, checked in the catalog every time (a partition
   * dropped by hand comes back). Returns the partitions it created.
   */
  async ensureUpcoming(now = new Date(), monthsAhead = PARTITION_MONTHS_AHEAD): Promise<string[]> {
    const created: string[] = [];
    for (let month = 0; month <= monthsAhead; month++) created.push(...(await this.create(addMonths(now, month))));
    return created;
  }

  /**
   * The partitions for the month of `date`, as ingestion asks before each
   * scan; remembered per process once they exist. A worker without the owner
   * role cannot create them: it finds them made ahead by the partition job
   * (PARTITION_MONTHS_AHEAD) of a worker that has it, or fails the scan.
   */
  async ensureMonthOf(date: Date): Promise<string[]> {
    if (this.knownMonths.has(monthKey(date))) return [];
    if (this.database.hasOwnerRole) return this.create(date);
    await this.requireExisting(date);
    return [];
  }

  /**
   * Brings the statistics of the month's partitions of `date` up to date
   * when a scan has outgrown them (see analyzeOutgrownPartitions), before
   * the scan is aggregated. A new month's partition is never analyzed when
   * its first scans arrive, and autovacuum comes up to a minute later (more
   * when its workers are busy): meanwhile the planner takes the partition
   * for nearly empty, and a 100,000-finding scan's aggregation took 8.5-10 s
   * instead of 4.0-5.6 s (bench:ingest-profile). Best effort: without the owner role, or when the
   * partition is locked (a VACUUM after a deletion), the aggregation runs on
   * the statistics there are. Returns the partitions analyzed.
   */
  async analyzeOutgrown(date: Date): Promise<string[]> {
    if (!this.database.hasOwnerRole) return [];
    try {
      return await this.database.adminTransaction(async (manager) => {
        await manager.query(`SET LOCAL lock_timeout = '1s'`);
        return analyzeOutgrownPartitions(manager, date);
      });
    } catch (error) {
      this.logger.warn(`the partitions of ${monthKey(date)} keep their statistics: ${(error as Error).message}`);
      return [];
    }
  }

  private async requireExisting(date: Date): Promise<void> {
    const names = partitionsOfMonth(date).map((partition) => partition.name);
    const [found] = await this.database.app.query<{ n: number }[]>(
      `SELECT count(*)::int AS n FROM unnest($1::text[]) AS name WHERE to_regclass(name) IS NOT NULL`,
      [names],
    );
    if (found.n < names.length) {
      throw new JobOutcomeError('partitions_missing', `The findings partitions of ${monthKey(date)} do not exist yet; the finding-partitions job of a worker with the owner role creates them.`);
    }
    this.knownMonths.add(monthKey(date));
  }

  private async create(date: Date): Promise<string[]> {
    const created = await this.database.adminTransaction(async (manager) => {
      await manager.query(`SET LOCAL lock_timeout = '10s'`);
      return createMonthPartitions(manager, date);
    });
    this.knownMonths.add(monthKey(date));
    return created;
  }
}

function monthKey(date: Date): string {
  return partitionsOfMonth(date)[0].name;
}
