import type { OcsfRecord, OcsfResource } from '../../scans/ocsf/ocsf-record';

/** Records per batch that the benchmarks found fastest here; SCAN_INGESTION_BATCH_SIZE sets an import's. */
export const INGESTION_BATCH_SIZE = 2000;

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
