import { isAscii } from 'node:buffer';
import { Readable, pipeline } from 'node:stream';
import { TextDecoder } from 'node:util';
import { createGunzip } from 'node:zlib';
import {
  OcsfRecord,
  RawOcsfFinding,
  DETECTION_FINDING_CLASS_UID,
  detectProviderType,
  normaliseOcsfFinding,
} from './ocsf-record';

export interface ReadOcsfOptions {
  /** The scan's provider type; without it the first record's type is expected of all. */
  expectedProvider?: string;
  /**
   * The account every record must be of (cloud.account.uid), when the
   * provider's uid is that account: a file of another account is refused
   * rather than filed under this provider. Records without an account pass.
   */
  expectedAccount?: string;
  /** Records per yielded batch; 1000 by default. The first batch holds at most FIRST_BATCH_SIZE of them. */
  batchSize?: number;
  /**
   * Whether whoever takes the batches is waiting for one now. While it
   * answers true, a batch after the first is cut as soon as it holds half of
   * batchSize records (HURRIED_BATCH_SHARE). Without it, only the first batch
   * is cut early.
   */
  consumerWaiting?: () => boolean;
  /** How many skipped records (and, in an error, bad records) are described; 10 by default. */
  maxBadRecordsReported?: number;
  /** The most bytes the file may have once decompressed (SCAN_IMPORT_MAX_DECOMPRESSED_BYTES); unbounded by default. */
  maxDecompressedBytes?: number;
  /** The longest one record's JSON text may be, in characters (SCAN_RECORD_MAX_BYTES); unbounded by default. */
  maxRecordChars?: number;
}

/** A batch of accepted records: an array of them, or what a RecordCollector made of them. */
export interface OcsfBatch<R = OcsfRecord[]> {
  records: R;
  progress: OcsfReadProgress;
}

/**
 * What a batch's accepted records are gathered into until the batch is cut.
 * readOcsf gathers them in an array; an import encodes each one as it
 * comes, so a parsed record dies young instead of waiting for its batch.
 */
export interface RecordCollector<R> {
  add(record: OcsfRecord): void;
  /** Records added since the last cut. */
  readonly size: number;
  /** The records added since the last cut, as a batch; the next batch starts empty. */
  cut(): R;
}

/** The default collector: the records themselves. */
class RecordArray implements RecordCollector<OcsfRecord[]> {
  private records: OcsfRecord[] = [];

  get size(): number {
    return this.records.length;
  }

  add(record: OcsfRecord): void {
    this.records.push(record);
  }

  cut(): OcsfRecord[] {
    const records = this.records;
    this.records = [];
    return records;
  }
}

/** Running totals when the batch was cut, for a progress figure. */
export interface OcsfReadProgress {
  recordsRead: number;
  recordsSkipped: number;
  /** Bytes of the input as given (compressed, for a gzipped file). */
  inputBytesRead: number;
}

export interface OcsfReadSummary extends OcsfReadProgress {
  recordsAccepted: number;
  /** The provider type of the file's records, undefined for a file without records. */
  providerType?: string;
  /** The first skipped records, up to maxBadRecordsReported. */
  skipped: BadRecord[];
}

/** A record by its 0-based position in the array and the line its `{` is on. */
export interface BadRecord {
  index: number;
  line: number;
  findingUid?: string;
  problems: string[];
}

/** The input is not a Prowler OCSF file; nothing read from it may be kept. */
export class OcsfFormatError extends Error {
  constructor(
    message: string,
    readonly badRecords: BadRecord[] = [],
  ) {
    super(badRecords.length === 0 ? message : `${message}: ${badRecords.map(describeBadRecord).join('; ')}`);
    this.name = 'OcsfFormatError';
  }
}

/** The input is over one of the reader's size limits; nothing read from it may be kept. */
export class OcsfLimitError extends OcsfFormatError {
  constructor(message: string) {
    super(message);
    this.name = 'OcsfLimitError';
  }
}

const DEFAULT_BATCH_SIZE = 1000;
/**
 * The first batch is cut early: whoever writes the batches waits for it
 * with nothing to do, while every later one is read as the one before is
 * written.
 */
const FIRST_BATCH_SIZE = 1000;
/**
 * A later batch is cut once it holds this share of the batch size when its
 * writer is already waiting for it (ReadOcsfOptions.consumerWaiting). Every
 * batch costs its writer about 10 ms whatever its size (a dozen statements
 * and their round trips): cut at 1,000 records, an import of 100,000 went
 * out in about 50 batches and spent more CPU on them than it saved in waits.
 */
const HURRIED_BATCH_SHARE = 0.5;
/** A batch is also cut once its records' text reaches this many characters, so large records make smaller batches. */
const MAX_BATCH_CHARS = 32 * 1024 * 1024;
const DEFAULT_MAX_BAD_RECORDS_REPORTED = 10;

/**
 * Streams a Prowler JSON-OCSF output file, plain or gzipped, as batches of
 * normalised records (or what `collector` makes of them), holding one batch
 * and one partial record in memory, never the file. The generator's return
 * value is the summary, with the skipped records' count and first reasons.
 *
 * Throws OcsfFormatError, before yielding the batch it would have been in,
 * when the input is not JSON, not a top-level array, truncated, or holds
 * records that are not Detection Findings, or of another provider type or
 * account.
 * Prowler writes one JSON array of Detection Findings (an empty file when a
 * scan has no findings at all), never JSON Lines, so a top-level object is
 * refused as not being Prowler output rather than read as one line.
 */
export function readOcsf(input: Readable, options?: ReadOcsfOptions): AsyncGenerator<OcsfBatch, OcsfReadSummary>;
export function readOcsf<R>(input: Readable, options: ReadOcsfOptions, collector: RecordCollector<R>): AsyncGenerator<OcsfBatch<R>, OcsfReadSummary>;
export async function* readOcsf<R>(
  input: Readable,
  options: ReadOcsfOptions = {},
  collector: RecordCollector<R> = new RecordArray() as unknown as RecordCollector<R>,
): AsyncGenerator<OcsfBatch<R>, OcsfReadSummary> {
  const batchSize = Math.max(1, options.batchSize ?? DEFAULT_BATCH_SIZE);
  const firstCutAt = Math.min(batchSize, FIRST_BATCH_SIZE);
  const hurriedCutAt = Math.max(firstCutAt, Math.ceil(batchSize * HURRIED_BATCH_SHARE));
  let firstBatch = true;
  const cutNow = (pending: number) =>
    pending >= batchSize || (firstBatch ? pending >= firstCutAt : pending >= hurriedCutAt && options.consumerWaiting?.() === true);
  const intake = new RecordIntake(
    collector,
    options.expectedProvider?.toLowerCase(),
    options.expectedAccount,
    options.maxBadRecordsReported ?? DEFAULT_MAX_BAD_RECORDS_REPORTED,
  );
  const splitter = new TopLevelArraySplitter(options.maxRecordChars ?? Infinity);
  const text = new Utf8Chunks();
  const counted = new CountedInput(input);
  const maxDecompressedBytes = options.maxDecompressedBytes ?? Infinity;
  let decompressedBytes = 0;
  try {
    for await (const chunk of gunzipWhenCompressed(counted.chunks())) {
      // Counted as they come out of gunzip, so a small file that expands without end stops here, not in memory.
      decompressedBytes += chunk.length;
      if (decompressedBytes > maxDecompressedBytes) {
        throw new OcsfLimitError(`The file is larger than ${maxDecompressedBytes} bytes once decompressed (SCAN_IMPORT_MAX_DECOMPRESSED_BYTES)`);
      }
      for (const element of splitter.push(text.decode(chunk, true))) {
        intake.take(element);
        // Bad records are gathered for a batch's worth of records, to name more than the first, and no batch leaves meanwhile.
        if (intake.hasEnoughBadRecords(batchSize)) intake.failIfBadRecords();
        if (cutNow(intake.pendingRecords) || intake.pendingChars >= MAX_BATCH_CHARS) {
          intake.failIfBadRecords();
          yield intake.cutBatch(counted.bytes);
          firstBatch = false;
        }
      }
    }
    for (const element of splitter.push(text.decode(Buffer.alloc(0), false))) intake.take(element);
    splitter.end();
  } catch (error) {
    // A broken structure after bad records is a symptom; the records are the cause worth naming. A limit is named as it is.
    if (!(error instanceof OcsfLimitError)) intake.failIfBadRecords();
    throw error;
  }
  intake.failIfBadRecords();
  if (intake.pendingRecords > 0) yield intake.cutBatch(counted.bytes);
  return intake.summarise(counted.bytes);
}

/** Sorts parsed elements into accepted records (handed to the collector), skipped ones and bad ones, and keeps the tallies. */
class RecordIntake<R> {
  /** The text length of the records collected since the last cut. */
  pendingChars = 0;
  private readonly badRecords: BadRecord[] = [];
  private readonly skipped: BadRecord[] = [];
  private recordsRead = 0;
  private recordsSkipped = 0;
  private recordsAccepted = 0;
  private firstBadRecordRead = 0;

  constructor(
    private readonly collector: RecordCollector<R>,
    private expectedProvider: string | undefined,
    private readonly expectedAccount: string | undefined,
    private readonly maxReported: number,
  ) {}

  get pendingRecords(): number {
    return this.collector.size;
  }

  hasEnoughBadRecords(window: number): boolean {
    const bad = this.badRecords.length;
    return bad > 0 && (bad >= this.maxReported || this.recordsRead - this.firstBadRecordRead >= window);
  }

  take(element: ArrayElementText): void {
    this.recordsRead++;
    this.pendingChars += element.text.length;
    const position = { index: element.index, line: element.line };
    let finding: RawOcsfFinding;
    try {
      // The splitter cuts elements from '{' to its matching '}', so what parses is an object.
      finding = (element.parsed ?? JSON.parse(element.text)) as RawOcsfFinding;
    } catch (error) {
      this.addBadRecord({ ...position, problems: [`not valid JSON (${(error as Error).message})`] });
      return;
    }
    if (finding.class_uid !== DETECTION_FINDING_CLASS_UID) {
      const classUid = finding.class_uid === undefined ? 'absent' : JSON.stringify(finding.class_uid);
      this.addBadRecord({ ...position, problems: [`not an OCSF Detection Finding (class_uid ${classUid}, expected ${DETECTION_FINDING_CLASS_UID})`] });
      return;
    }
    const findingUid = findingUidOf(finding);
    const providerType = detectProviderType(finding);
    this.expectedProvider ??= providerType;
    if (providerType && providerType !== this.expectedProvider) {
      this.addBadRecord({ ...position, findingUid, problems: [`provider type '${providerType}', expected '${this.expectedProvider}'`] });
      return;
    }
    const accountUid = accountUidOf(finding);
    if (this.expectedAccount !== undefined && accountUid !== undefined && accountUid !== this.expectedAccount) {
      this.addBadRecord({ ...position, findingUid, problems: [`account '${accountUid}', expected '${this.expectedAccount}'`] });
      return;
    }
    const normalised = normaliseOcsfFinding(finding);
    if (normalised.record) {
      this.collector.add(normalised.record);
      return;
    }
    this.recordsSkipped++;
    if (this.skipped.length < this.maxReported) this.skipped.push({ ...position, findingUid, problems: normalised.problems });
  }

  private addBadRecord(record: BadRecord): void {
    if (this.badRecords.length === 0) this.firstBadRecordRead = this.recordsRead;
    this.badRecords.push(record);
  }

  failIfBadRecords(): void {
    if (this.badRecords.length === 0) return;
    throw new OcsfFormatError('Not an importable Prowler OCSF file', this.badRecords.slice(0, Math.max(1, this.maxReported)));
  }

  cutBatch(inputBytesRead: number): OcsfBatch<R> {
    this.recordsAccepted += this.collector.size;
    this.pendingChars = 0;
    return { records: this.collector.cut(), progress: { recordsRead: this.recordsRead, recordsSkipped: this.recordsSkipped, inputBytesRead } };
  }

  summarise(inputBytesRead: number): OcsfReadSummary {
    return {
      recordsRead: this.recordsRead,
      recordsAccepted: this.recordsAccepted,
      recordsSkipped: this.recordsSkipped,
      inputBytesRead,
      providerType: this.expectedProvider,
      skipped: this.skipped,
    };
  }
}

function describeBadRecord(record: BadRecord): string {
  const uid = record.findingUid ? ` '${record.findingUid}'` : '';
  return `record ${record.index}${uid} (line ${record.line}): ${record.problems.join(', ')}`;
}

function findingUidOf(finding: RawOcsfFinding): string | undefined {
  const info = finding.finding_info;
  const uid = typeof info === 'object' && info !== null ? (info as RawOcsfFinding).uid : undefined;
  return typeof uid === 'string' && uid !== '' ? uid : undefined;
}

function accountUidOf(finding: RawOcsfFinding): string | undefined {
  const cloud = finding.cloud;
  const account = typeof cloud === 'object' && cloud !== null ? (cloud as RawOcsfFinding).account : undefined;
  const uid = typeof account === 'object' && account !== null ? (account as RawOcsfFinding).uid : undefined;
  return typeof uid === 'string' && uid !== '' ? uid : undefined;
}

/**
 * Decodes a file's chunks as UTF-8 text. A chunk of ASCII bytes alone, which
 * is nearly every chunk of a scanner's output, is copied as Latin-1, the same
 * characters at a fraction of the UTF-8 decoder's cost; the decoder takes any
 * other chunk, and every chunk after one that may have ended inside a
 * character, until a chunk ends on an ASCII byte (nothing is then held back).
 */
class Utf8Chunks {
  private readonly decoder = new TextDecoder('utf-8', { fatal: true });
  private decoderHoldsBytes = false;

  decode(bytes: Buffer, more: boolean): string {
    if (!this.decoderHoldsBytes && isAscii(bytes)) return bytes.toString('latin1');
    let text: string;
    try {
      text = this.decoder.decode(bytes, { stream: more });
    } catch {
      throw new OcsfFormatError('Not a JSON file: the content is not UTF-8 text');
    }
    if (bytes.length > 0) this.decoderHoldsBytes = bytes[bytes.length - 1] >= 0x80;
    return text;
  }
}

/** The input's chunks as bytes, counted as they pass. */
class CountedInput {
  bytes = 0;

  constructor(private readonly input: Readable) {}

  async *chunks(): AsyncGenerator<Buffer> {
    for await (const chunk of this.input as AsyncIterable<Buffer | string>) {
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      this.bytes += bytes.length;
      yield bytes;
    }
  }
}

const GZIP_MAGIC = [0x1f, 0x8b];
const GUNZIP_CHUNK_BYTES = 64 * 1024;

/** Passes the bytes through, or gunzips them as a stream when they start with gzip's magic bytes. */
async function* gunzipWhenCompressed(chunks: AsyncGenerator<Buffer>): AsyncGenerator<Buffer> {
  let head = Buffer.alloc(0);
  while (head.length < GZIP_MAGIC.length) {
    const next = await chunks.next();
    if (next.done) break;
    head = Buffer.concat([head, next.value]);
  }
  const replayed = (async function* () {
    if (head.length > 0) yield head;
    yield* chunks;
  })();
  if (head[0] !== GZIP_MAGIC[0] || head[1] !== GZIP_MAGIC[1]) {
    yield* replayed;
    return;
  }
  // Chunks of 64 KiB rather than zlib's 16: a quarter of the hand-offs between the thread pool and the reader.
  const gunzip = createGunzip({ chunkSize: GUNZIP_CHUNK_BYTES });
  // pipeline hands any error, of the input or of zlib, to gunzip, where the loop below sees it;
  // leaving the loop early destroys gunzip, and pipeline then closes the input.
  pipeline(Readable.from(replayed), gunzip, () => undefined);
  try {
    for await (const chunk of gunzip) yield chunk as Buffer;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (typeof code === 'string' && code.startsWith('Z_')) {
      throw new OcsfFormatError(`The gzip data is corrupt or truncated (${(error as Error).message})`);
    }
    throw error;
  }
}

interface ArrayElementText {
  text: string;
  index: number;
  line: number;
  /** The element already parsed, when the splitter had to parse it to know where it ends (see TopLevelArraySplitter). */
  parsed?: unknown;
}

type SplitterState = 'beforeArray' | 'afterOpeningBracket' | 'afterComma' | 'afterElement' | 'inElement' | 'afterArray';

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const COMMA = 0x2c;
const NEWLINE = 0x0a;
/** Each missed guess costs a search of the rest of the chunk, and maybe a parse: a file that keeps defeating them is followed exactly. */
const MAX_MISSED_GUESSES = 16;

/**
 * Cuts the text of a top-level JSON array of objects into the texts of its
 * elements, fed in chunks of any size. It follows only what it must to find
 * where an element ends (depth, strings and their escapes); JSON.parse checks
 * each element's own syntax.
 *
 * Following every string and brace took a sixth of an import's parsing
 * thread, so once the file's layout is known it guesses instead: writers put
 * the same separator between all elements, and where it holds a line break
 * (Prowler's indented output, or one record per line) it cannot occur inside
 * a string, which holds no raw line break. The first `}` + separator + `{`
 * after an element's start is then taken for its end, and JSON.parse decides:
 * a text that starts at the element's own `{` and parses is that element,
 * whole. A guess that does not parse (a nested value laid out like the
 * array's elements, an element that goes on into the next chunk, bad JSON)
 * costs one failed parse, and the element is followed exactly as before.
 */
class TopLevelArraySplitter {
  private state: SplitterState = 'beforeArray';
  /** What lies between the first two elements, gathered from the first one's end to the second's start; null otherwise. */
  private separator: string | null = null;
  /** `}` + separator + `{`, when the separator holds a line break: what ends every element but the last. */
  private elementEnd: string | null = null;
  /** Guesses missed in a row: past MAX_MISSED_GUESSES the layout is not what was learnt, and guessing stops. */
  private missedGuesses = 0;
  private depth = 0;
  private inString = false;
  private escaped = false;
  private pieces: string[] = [];
  private line = 1;
  private elementLine = 0;
  private elementCount = 0;
  /** Characters of the element being cut, across chunks. */
  private elementChars = 0;

  constructor(private readonly maxElementChars: number) {}

  push(text: string): ArrayElementText[] {
    const elements: ArrayElementText[] = [];
    let position = 0;
    while (position < text.length) {
      if (this.state === 'inElement') {
        const guessed = this.elementChars === 0 ? this.guessElement(text, position) : null;
        if (guessed) {
          elements.push(guessed);
          position += guessed.text.length;
          this.state = 'afterElement';
          continue;
        }
        const end = this.scanElement(text, position);
        // Checked before the piece is kept: one record must not grow without bound in memory.
        this.countElementChars((end < 0 ? text.length : end) - position);
        if (end < 0) {
          this.pieces.push(position === 0 ? text : text.slice(position));
          return elements;
        }
        this.pieces.push(text.slice(position, end));
        elements.push({ text: this.pieces.join(''), index: this.elementCount++, line: this.elementLine });
        this.pieces = [];
        this.state = 'afterElement';
        // The first element is always followed exactly (nothing is learnt yet): the separator starts after it.
        if (this.elementCount === 1) this.separator = '';
        position = end;
        continue;
      }
      const code = text.charCodeAt(position);
      if (this.separator !== null) this.learnLayout(code);
      if (code === NEWLINE) {
        this.line++;
      } else if (!isWhitespace(code)) {
        // An element is scanned from its own opening brace, so that brace is counted in its depth.
        if (this.opensElement(code)) continue;
      }
      position++;
    }
    return elements;
  }

  /** Called once the input is exhausted. */
  end(): void {
    switch (this.state) {
      case 'afterArray':
      case 'beforeArray': // Prowler leaves the file empty when a scan has no findings.
        return;
      case 'inElement':
        throw new OcsfFormatError(`Truncated file: it ends inside record ${this.elementCount}, which starts on line ${this.elementLine}`);
      default:
        throw new OcsfFormatError(`Truncated file: it ends after ${this.elementCount} records, before the array's closing ']'`);
    }
  }

  /** Handles one non-whitespace character between elements; true when it starts one. */
  private opensElement(code: number): boolean {
    const found = `'${String.fromCharCode(code)}' on line ${this.line}`;
    switch (this.state) {
      case 'beforeArray':
        if (code === OPEN_BRACE) throw new OcsfFormatError('Not a Prowler OCSF file: the top-level JSON value is an object, not an array of findings');
        if (code !== OPEN_BRACKET) throw new OcsfFormatError(`Not a JSON file: it starts with ${found}`);
        this.state = 'afterOpeningBracket';
        return false;
      case 'afterOpeningBracket':
      case 'afterComma':
        if (code === OPEN_BRACE) {
          this.startElement();
          return true;
        }
        if (code !== CLOSE_BRACKET || this.state === 'afterComma') {
          throw new OcsfFormatError(`Not a Prowler OCSF file: record ${this.elementCount} is not a JSON object (it starts with ${found})`);
        }
        this.state = 'afterArray';
        return false;
      case 'afterElement':
        if (code !== COMMA && code !== CLOSE_BRACKET) {
          throw new OcsfFormatError(`Not valid JSON: expected ',' or ']' after record ${this.elementCount - 1}, found ${found}`);
        }
        this.state = code === COMMA ? 'afterComma' : 'afterArray';
        return false;
      case 'afterArray':
        throw new OcsfFormatError(`Not valid JSON: unexpected ${found} after the array's closing ']'`);
      case 'inElement':
        throw new Error('opensElement() is only called between elements');
    }
  }

  /**
   * The element starting at `from` (its `{`), when the file's separator ends
   * it within this chunk and what it encloses parses; null to follow it exactly.
   */
  private guessElement(text: string, from: number): ArrayElementText | null {
    if (this.elementEnd === null) return null;
    const close = text.indexOf(this.elementEnd, from);
    if (close < 0 || close + 1 - from > this.maxElementChars) return this.missedGuess();
    const candidate = text.slice(from, close + 1);
    let parsed: unknown;
    try {
      parsed = JSON.parse(candidate);
    } catch {
      return this.missedGuess();
    }
    this.missedGuesses = 0;
    const element = { text: candidate, index: this.elementCount++, line: this.elementLine, parsed };
    for (let newline = candidate.indexOf('\n'); newline >= 0; newline = candidate.indexOf('\n', newline + 1)) this.line++;
    return element;
  }

  /** An element that goes on into the next chunk misses too, but the next one is found again; a file laid out otherwise never is. */
  private missedGuess(): null {
    if (++this.missedGuesses > MAX_MISSED_GUESSES) this.elementEnd = null;
    return null;
  }

  /** Gathers what lies between the first two elements, from the first one's `}` to the next `{`. */
  private learnLayout(code: number): void {
    if (code !== OPEN_BRACE) {
      this.separator += String.fromCharCode(code);
      return;
    }
    const separator = this.separator ?? '';
    this.elementEnd = separator.includes('\n') ? `}${separator}{` : null;
    this.separator = null;
  }

  private countElementChars(chars: number): void {
    this.elementChars += chars;
    if (this.elementChars > this.maxElementChars) {
      throw new OcsfLimitError(
        `Record ${this.elementCount} (line ${this.elementLine}) is longer than ${this.maxElementChars} characters (SCAN_RECORD_MAX_BYTES)`,
      );
    }
  }

  private startElement(): void {
    this.elementChars = 0;
    this.state = 'inElement';
    this.depth = 0;
    this.inString = false;
    this.escaped = false;
    this.elementLine = this.line;
  }

  /**
   * Scans from `from`, the element's opening brace or a chunk's start, and
   * returns the position just past the brace that closes the element, or -1
   * when the chunk ends first; the state carries over to the next chunk.
   */
  private scanElement(text: string, from: number): number {
    let { depth, line } = this;
    let position = from;
    let end = -1;
    while (position < text.length) {
      if (this.inString) {
        const afterString = this.skipString(text, position);
        if (afterString < 0) break;
        this.inString = false;
        position = afterString;
        continue;
      }
      const code = text.charCodeAt(position++);
      if (code === QUOTE) {
        this.inString = true;
      } else if (code === OPEN_BRACE || code === OPEN_BRACKET) {
        depth++;
      } else if (code === CLOSE_BRACE || code === CLOSE_BRACKET) {
        if (--depth === 0) {
          end = position;
          break;
        }
      } else if (code === NEWLINE) {
        line++;
      }
    }
    this.depth = depth;
    this.line = line;
    return end;
  }

  /**
   * From inside a string, the position just past its closing quote, or -1
   * when the chunk ends first. Strings are most of a finding's text, so this
   * jumps from quote to quote rather than reading every character: a quote
   * closes the string unless an odd run of backslashes comes before it.
   */
  private skipString(text: string, from: number): number {
    let position = from;
    if (this.escaped) {
      // The previous chunk ended on a backslash, so this chunk's first character is escaped.
      position++;
      this.escaped = false;
    }
    for (;;) {
      const quote = text.indexOf('"', position);
      if (quote < 0) {
        this.escaped = backslashesBefore(text, text.length, position) % 2 === 1;
        return -1;
      }
      if (backslashesBefore(text, quote, position) % 2 === 0) return quote + 1;
      position = quote + 1;
    }
  }
}

/** How many backslashes come right before `end`, looking no further back than `start`. */
function backslashesBefore(text: string, end: number, start: number): number {
  let count = 0;
  while (end - count > start && text.charCodeAt(end - count - 1) === BACKSLASH) count++;
  return count;
}

function isWhitespace(code: number): boolean {
  return code === 0x20 || code === NEWLINE || code === 0x0d || code === 0x09;
}
