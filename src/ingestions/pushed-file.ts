import { createReadStream } from 'node:fs';
import { PROVIDER_TYPES, ProviderType } from '../providers/provider-uid-rules';
import { OcsfFormatError, readOcsf } from '../scans/ocsf/ocsf-stream-reader';
import { JobOutcomeError } from '../tasks/jobs/job-errors';

/** What a pushed file says about where its findings come from. */
export interface PushedFileOrigin {
  providerType: ProviderType;
  accountUid: string;
  records: number;
}

const BATCH_SIZE = 2000;

/**
 * Reads a file the Prowler CLI pushed, before anything is stored: its first
 * finding names the provider type and account (`cloud.provider`,
 * `cloud.account.uid`), then every record must be a Detection Finding of
 * that type and account. A file that is not OCSF, holds no finding, or mixes
 * accounts fails with the reason (naming the first bad records), as an import
 * does, and nothing of it is kept.
 */
export async function inspectPushedFile(file: string, signal: AbortSignal): Promise<PushedFileOrigin> {
  try {
    const first = await firstRecord(file);
    if (!first) throw new JobOutcomeError('invalid_file', 'The file was not ingested: it holds no findings, so it names no provider account.');
    const providerType = first.providerType as string;
    if (!(PROVIDER_TYPES as readonly string[]).includes(providerType)) {
      throw new JobOutcomeError('invalid_file', `The file was not ingested: provider type '${providerType}' is not one this API manages.`);
    }
    if (!first.accountUid) throw new JobOutcomeError('invalid_file', 'The file was not ingested: its first finding names no account (cloud.account.uid).');

    const input = createReadStream(file);
    const reader = readOcsf(input, { expectedProvider: providerType, expectedAccount: first.accountUid, batchSize: BATCH_SIZE });
    let records = 0;
    for await (const batch of reader) {
      signal.throwIfAborted();
      records += batch.records.length;
    }
    return { providerType: providerType as ProviderType, accountUid: first.accountUid, records };
  } catch (error) {
    if (error instanceof OcsfFormatError) throw new JobOutcomeError('invalid_file', `The file was not ingested. ${error.message}.`);
    throw error;
  }
}

async function firstRecord(file: string) {
  const input = createReadStream(file);
  try {
    for await (const batch of readOcsf(input, { batchSize: 1 })) return batch.records[0];
    return undefined;
  } finally {
    input.destroy();
  }
}
