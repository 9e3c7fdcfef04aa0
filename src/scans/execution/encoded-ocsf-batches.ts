import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { pipelined } from '../../common/pipelined';
import { EncodedBatch } from '../../findings/ingestion/ingest-batch';
import { IngestionScan } from '../../findings/ingestion/ingestion-record';
import { StagePayload } from '../../findings/ingestion/staging-tables';
import { MutelistDocument } from '../../processors/mutelist/mutelist-document';
import { OcsfFormatError, OcsfLimitError, OcsfReadProgress, OcsfReadSummary, ReadOcsfOptions } from '../ocsf/ocsf-stream-reader';

export interface EncodedOcsfBatch {
  encoded: EncodedBatch;
  records: number;
  progress: OcsfReadProgress;
}

/** How the thread reads the file, and the tenant's Mutelist it applies to every record (compiled once, on the thread). */
export type EncodingOptions = ReadOcsfOptions & { mutelist?: MutelistDocument | null };

export interface EncodingWorkerData {
  file: string;
  options: ReadOcsfOptions;
  mutelist: MutelistDocument | null;
  scan: Omit<IngestionScan, 'scanStartedAt'> & { scanStartedMs: number };
}

/** The first message a thread gets: what it reads. */
export interface EncodingWorkerStart {
  start: EncodingWorkerData;
}

/** 'next' asks for the next batch; 'hurry' says the writer now waits for the one asked for (see the worker). */
export type EncodingWorkerRequest = 'next' | 'hurry';

export type EncodingWorkerReply =
  | { kind: 'batch'; encoded: EncodedBatch; records: number; progress: OcsfReadProgress }
  | { kind: 'done'; summary: OcsfReadSummary }
  | { kind: 'error'; format: boolean; message: string };

const WORKER_SCRIPT = join(__dirname, 'ocsf-encoding.worker.js');
/** The encoding thread's heap unless SCAN_ENCODING_THREAD_HEAP_MB says otherwise. */
export const DEFAULT_ENCODING_HEAP_MB = 1024;

/**
 * Encoding threads started ahead of their import, one per heap size: a
 * thread takes about 50 ms to start and load its modules, and the writer
 * waited that long for every import's first batch. An import takes the spare
 * and, once done, starts the next one (while its scan is published, which
 * leaves a core idle). Spares do not keep the process alive.
 */
const spares = new Map<number, Worker>();

function takeEncodingThread(heapMb: number): Worker {
  const spare = spares.get(heapMb);
  if (!spare) return startEncodingThread(heapMb);
  spares.delete(heapMb);
  spare.ref();
  return spare;
}

function keepSpareEncodingThread(heapMb: number): void {
  if (spares.has(heapMb)) return;
  const spare = startEncodingThread(heapMb);
  spare.unref();
  const forget = () => {
    if (spares.get(heapMb) === spare) spares.delete(heapMb);
  };
  spare.on('error', forget);
  spare.on('exit', forget);
  spares.set(heapMb, spare);
}

function startEncodingThread(heapMb: number): Worker {
  // A bounded heap: a file that needs more fails its import, instead of taking the whole process's memory.
  return new Worker(WORKER_SCRIPT, { resourceLimits: { maxOldGenerationSizeMb: heapMb } });
}

/** The one request in flight: the thread answers requests in order, one at a time. */
interface Waiter {
  resolve: (reply: EncodingWorkerReply) => void;
  reject: (error: Error) => void;
}

/**
 * An OCSF file's batches, read and encoded on a worker thread
 * (ocsf-encoding.worker.ts) one at a time as they are asked for. With
 * `pipelined` the next batch is parsed on one core while this thread drives
 * the current one's statements on the other; on one thread the two only took
 * turns. The reader's errors come back as they were thrown (an
 * OcsfFormatError keeps its message). `close` must be called in every case:
 * it stops the thread.
 */
export class EncodedOcsfBatches implements AsyncIterator<EncodedOcsfBatch, OcsfReadSummary> {
  private readonly worker: Worker;
  private waiting: Waiter | null = null;
  private failure: Error | null = null;

  constructor(file: string, options: EncodingOptions, scan: IngestionScan, private readonly heapMb = DEFAULT_ENCODING_HEAP_MB) {
    const { scanStartedAt, ...rest } = scan;
    const { mutelist = null, ...readOptions } = options;
    const start: EncodingWorkerData = { file, options: readOptions, mutelist, scan: { ...rest, scanStartedMs: scanStartedAt.getTime() } };
    this.worker = takeEncodingThread(heapMb);
    this.worker.postMessage({ start } satisfies EncodingWorkerStart);
    this.worker.on('message', (reply: EncodingWorkerReply) => this.settle((w) => w.resolve(reply)));
    this.worker.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'ERR_WORKER_OUT_OF_MEMORY') return this.fail(error);
      this.fail(new OcsfLimitError(`Reading it took more than the ${heapMb} MB of memory it may use (SCAN_ENCODING_THREAD_HEAP_MB)`));
    });
    this.worker.on('exit', (code) => this.fail(new Error(`the OCSF encoding thread exited (code ${code})`)));
  }

  async next(): Promise<IteratorResult<EncodedOcsfBatch, OcsfReadSummary>> {
    const reply = await this.request();
    switch (reply.kind) {
      case 'batch':
        return { done: false, value: { encoded: { ...reply.encoded, payload: reply.encoded.payload && asBuffers(reply.encoded.payload) }, records: reply.records, progress: reply.progress } };
      case 'done':
        return { done: true, value: reply.summary };
      case 'error':
        throw reply.format ? new OcsfFormatError(reply.message) : new Error(reply.message);
    }
  }

  /** The thread that reads the file. */
  get threadId(): number {
    return this.worker.threadId;
  }

  /** The writer is free: the batch asked for, if it has not arrived, is cut short as soon as it holds half a batch. */
  hurry(): void {
    if (this.waiting) this.post('hurry');
  }

  async close(): Promise<void> {
    this.worker.removeAllListeners('exit');
    await this.worker.terminate();
    keepSpareEncodingThread(this.heapMb);
  }

  private request(): Promise<EncodingWorkerReply> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.waiting) return Promise.reject(new Error('EncodedOcsfBatches: one batch at a time'));
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject };
      this.post('next');
    });
  }

  private post(request: EncodingWorkerRequest): void {
    this.worker.postMessage(request);
  }

  private fail(error: Error): void {
    this.failure ??= error;
    this.settle((w) => w.reject(error));
  }

  private settle(action: (waiting: Waiter) => void): void {
    const waiting = this.waiting;
    this.waiting = null;
    if (waiting) action(waiting);
  }
}

/** Buffers arrive from another thread as plain Uint8Arrays; the COPY writer wants Buffers (a view, not a copy). */
function asBuffers(payload: StagePayload): StagePayload {
  const view = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return { ...payload, findings: view(payload.findings), resources: view(payload.resources), links: view(payload.links) };
}

/**
 * Reads and encodes `file` on the encoding thread and hands each batch, in
 * order, to `write`, while the next one is prepared; once a batch is
 * written, the one being read is cut short if need be, so batch sizes adapt
 * to whichever side is slower. Answers the reader's summary. The thread is
 * stopped however it ends.
 */
export async function forEachEncodedBatch(
  file: string,
  options: EncodingOptions,
  scan: IngestionScan,
  write: (batch: EncodedOcsfBatch) => Promise<void>,
  heapMb = DEFAULT_ENCODING_HEAP_MB,
): Promise<OcsfReadSummary> {
  const batches = new EncodedOcsfBatches(file, options, scan, heapMb);
  try {
    return await pipelined(batches, async (batch) => batch, write, () => batches.hurry());
  } finally {
    await batches.close();
  }
}
