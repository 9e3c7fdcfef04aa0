import { createReadStream } from 'node:fs';
import { parentPort } from 'node:worker_threads';
import { IngestionScan } from '../../findings/ingestion/ingestion-record';
import { CompiledMutelist } from '../../processors/mutelist/mutelist-matcher';
import { OcsfFormatError, readOcsf } from '../ocsf/ocsf-stream-reader';
import { encodingCollector } from './encoding-collector';
import type { EncodingWorkerData, EncodingWorkerReply, EncodingWorkerRequest, EncodingWorkerStart } from './encoded-ocsf-batches';

/*
 * The CPU half of an import, on its own thread: reads the spooled OCSF file,
 * parses and normalises its records, and encodes each batch for the staging
 * tables, one batch per 'next' message, so the thread that writes to the
 * database never waits behind a parse. Each record is muted and encoded as
 * the reader accepts it. The tenant's Mutelist is compiled once here, for
 * the whole file. A 'hurry' message says the writer is waiting for the batch
 * being read: it is then cut as soon as it holds half a batch, so the
 * writer takes what is ready instead of idling until a whole batch is.
 *
 * The thread may be started before its import is known (a spare, see
 * encoded-ocsf-batches.ts): the first message says which file to read, for
 * which scan, and it serves that one import.
 */
let writerWaiting = false;
/**
 * The batch after the one last sent, read as soon as that one leaves: the
 * writer asks for a batch only once it starts writing the one before, so
 * without it this thread idled whenever it had been quicker, and the writer
 * then waited whenever it was not.
 */
let readAhead: Promise<EncodingWorkerReply> | null = null;
let reader: ReturnType<typeof openReader> | null = null;
const port = parentPort!;

port.on('message', (message: EncodingWorkerStart | EncodingWorkerRequest) => {
  if (typeof message === 'object') {
    reader = openReader(message.start);
    return;
  }
  if (message === 'hurry') {
    writerWaiting = true;
    return;
  }
  // Messages arrive in order: a 'hurry' that came after its batch was sent is cleared here, before the next batch starts.
  writerWaiting = false;
  const reply = readAhead ?? nextReply();
  readAhead = null;
  void reply.then((sent) => {
    port.postMessage(sent, transferable(sent));
    if (sent.kind === 'batch') readAhead = nextReply();
  });
});

function openReader(data: EncodingWorkerData) {
  const scan: IngestionScan = { ...data.scan, scanStartedAt: new Date(data.scan.scanStartedMs) };
  const mutelist = data.mutelist ? new CompiledMutelist(data.mutelist) : null;
  return readOcsf(createReadStream(data.file), { ...data.options, consumerWaiting: () => writerWaiting }, encodingCollector(scan, mutelist));
}

/** A batch's COPY text moves to the writing thread rather than being copied there: each part owns its memory (CopyTextBuffer.take). */
function transferable(reply: EncodingWorkerReply): ArrayBuffer[] {
  const payload = reply.kind === 'batch' ? reply.encoded.payload : null;
  return payload ? [payload.findings, payload.resources, payload.links].map((part) => part.buffer as ArrayBuffer) : [];
}

async function nextReply(): Promise<EncodingWorkerReply> {
  try {
    if (!reader) throw new Error('the encoding thread was asked for a batch before it was told what to read');
    const next = await reader.next();
    if (next.done) return { kind: 'done', summary: next.value };
    const { records, progress } = next.value;
    return { kind: 'batch', encoded: records.encoded, records: records.records, progress };
  } catch (error) {
    return { kind: 'error', format: error instanceof OcsfFormatError, message: (error as Error).message };
  }
}
