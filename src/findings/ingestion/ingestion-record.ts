import type { OcsfRecord, OcsfResource } from '../../scans/ocsf/ocsf-record';

/**
 * Records per batch; SCAN_INGESTION_BATCH_SIZE sets an import's. A batch pays
 * a fixed cost whatever its size (about a dozen statements, truncating the
 * staging tables, moving the provider's findings version, pruning stale tag
 * links): at 2,000 those took about 15 % of a 100,000-finding import, at
 * 10,000 about 3 % (README, Performance). Each batch commits on its own, so
 * the size also bounds a batch transaction. The reader's first batch is
 * smaller, so writing starts early.
 */
export const INGESTION_BATCH_SIZE = 10_000;

/** What ingestion reads of a normalised OCSF record; an OcsfRecord is one. */
export type IngestionResource = Pick<OcsfResource, 'uid' | 'name' | 'region' | 'service' | 'type' | 'tags' | 'details' | 'partition' | 'metadata'>;

export type IngestionRecord = Pick<
  OcsfRecord,
  'uid' | 'checkId' | 'checkTitle' | 'status' | 'statusExtended' | 'severity' | 'muted' | 'region' | 'service' | 'resourceType' | 'compliance'
> & {
  resources: IngestionResource[];
  /** The check's categories as the scan reported them; absent when it did not say (nothing is changed then). */
  categories?: readonly string[];
  /** Why it is muted, when something at ingestion muted it (the tenant's Mutelist); mute rules are applied by the insert. */
  mutedReason?: string;
};

/** The scan a batch belongs to. `scanStartedAt` must be the same on every batch and retry: finding ids derive from it. */
export interface IngestionScan {
  tenantId: string;
  scanId: string;
  providerId: string;
  scanStartedAt: Date;
}

export interface BatchResult {
  /** Findings written by this call; a retried batch writes 0. */
  findingsInserted: number;
  resourcesUpserted: number;
}
