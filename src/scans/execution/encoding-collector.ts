import { EncodedBatch, ScanBatchEncoder } from '../../findings/ingestion/ingest-batch';
import { IngestionScan } from '../../findings/ingestion/ingestion-record';
import { RecordMuter } from '../../processors/mutelist/mute-records';
import { CompiledMutelist } from '../../processors/mutelist/mutelist-matcher';
import { RecordCollector } from '../ocsf/ocsf-stream-reader';

/** A batch as an import's encoding thread hands it over: encoded, with how many records it holds. */
export interface EncodedRecords {
  encoded: EncodedBatch;
  records: number;
}

/**
 * What the reader of an import gathers its batches with: each record is
 * muted by the tenant's Mutelist (when it has one) and encoded for the
 * staging tables as soon as it is accepted.
 */
export function encodingCollector(scan: IngestionScan, mutelist: CompiledMutelist | null): RecordCollector<EncodedRecords> {
  const muter = mutelist ? new RecordMuter(mutelist) : null;
  const encoder = new ScanBatchEncoder(scan);
  return {
    add: (record) => encoder.add(muter ? muter.mute(record) : record),
    get size() {
      return encoder.size;
    },
    cut: () => {
      const records = encoder.size;
      return { encoded: encoder.cut(), records };
    },
  };
}
