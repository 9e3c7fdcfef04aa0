import type { EntityManager } from 'typeorm';
import { ReportScan } from '../../findings/reports/report-findings';
import { StoredIntegration } from '../integrations.repository';

/**
 * One integration's delivery for one scan, as the scan-integrations job
 * hands it to the type's deliverer: what was already sent (from an earlier
 * attempt) and how to note each part the moment it has gone out.
 */
export interface DeliveryRun {
  tenantId: string;
  scan: ReportScan;
  integration: StoredIntegration;
  alreadySent: ReadonlySet<string>;
  markSent(part: string): Promise<void>;
  inTenant<T>(fn: (manager: EntityManager) => Promise<T>): Promise<T>;
  signal: AbortSignal;
}

/** What a deliverer reports for the task's result: counts, never content. */
export type DeliverySummary = Record<string, number>;
