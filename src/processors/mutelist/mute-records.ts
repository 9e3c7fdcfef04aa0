import type { IngestionRecord } from '../../findings/ingestion/ingestion-record';
import type { OcsfRecord } from '../../scans/ocsf/ocsf-record';
import { CompiledMutelist, MUTELIST_REASON, unrollTags } from './mutelist-matcher';

/**
 * A batch's records with those the Mutelist mutes marked muted, with
 * Prowler's reason. A finding is asked about as Prowler asks: its account,
 * check, region, and its (first) resource's uid and tags. Records it leaves
 * alone are handed on as they are.
 */
export function muteRecords(mutelist: CompiledMutelist, records: readonly OcsfRecord[]): IngestionRecord[] {
  return records.map((record) => {
    const resource = record.resources[0];
    const muted = mutelist.mutes({
      account: record.accountUid,
      checkId: record.checkId,
      region: record.region,
      resource: resource?.uid ?? '',
      tags: unrollTags(resource?.tags),
    });
    return muted ? { ...record, muted: true, mutedReason: MUTELIST_REASON } : record;
  });
}
