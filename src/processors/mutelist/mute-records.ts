import type { IngestionRecord } from '../../findings/ingestion/ingestion-record';
import type { OcsfRecord } from '../../scans/ocsf/ocsf-record';
import { CompiledMutelist, MUTELIST_REASON, MutelistFinding, unrollTags } from './mutelist-matcher';

/**
 * A batch's records with those the Mutelist mutes marked muted, with
 * Prowler's reason. A finding is asked about as Prowler asks: its account,
 * check, region, and its (first) resource's uid and tags. Records it leaves
 * alone are handed on as they are.
 */
export function muteRecords(mutelist: CompiledMutelist, records: readonly OcsfRecord[]): IngestionRecord[] {
  const muter = new RecordMuter(mutelist);
  return records.map((record) => muter.mute(record));
}

/** muteRecords one record at a time, as a reader hands them over. */
export class RecordMuter {
  private readonly view = new RecordView();

  constructor(private readonly mutelist: CompiledMutelist) {}

  mute(record: OcsfRecord): IngestionRecord {
    return this.mutelist.mutes(this.view.of(record)) ? { ...record, muted: true, mutedReason: MUTELIST_REASON } : record;
  }
}

/** One record as the Mutelist reads it, reused from record to record; its tags are unrolled only if an entry asks. */
class RecordView implements MutelistFinding {
  private record!: OcsfRecord;
  private unrolled: string | null = null;

  of(record: OcsfRecord): this {
    this.record = record;
    this.unrolled = null;
    return this;
  }

  get account(): string {
    return this.record.accountUid;
  }

  get checkId(): string {
    return this.record.checkId;
  }

  get region(): string {
    return this.record.region;
  }

  get resource(): string {
    return this.record.resources[0]?.uid ?? '';
  }

  get tags(): string {
    return (this.unrolled ??= unrollTags(this.record.resources[0]?.tags));
  }
}
