import type { EntityManager } from 'typeorm';

/**
 * COPY … FROM STDIN on the transaction's own connection, written against the
 * `pg` client's submittable interface (the same hook `pg-query-stream` uses),
 * so no extra dependency is needed. Used only for session temporary tables:
 * PostgreSQL refuses COPY into tables under row-level security.
 */
interface PgConnection {
  query(text: string): void;
  sendCopyFromChunk(chunk: Buffer): void;
  endCopyFrom(): void;
  sendCopyFail(message: string): void;
}

interface PgClient {
  query(submittable: CopyFromStdin): unknown;
}

const CHUNK_BYTES = 64 * 1024;

class CopyFromStdin {
  private rowCount = 0;
  private settled = false;

  constructor(
    readonly text: string,
    private readonly payload: Buffer,
    private readonly done: (error: Error | undefined, rows: number) => void,
  ) {}

  submit(connection: PgConnection): void {
    connection.query(this.text);
  }

  handleCopyInResponse(connection: PgConnection): void {
    for (let offset = 0; offset < this.payload.length; offset += CHUNK_BYTES) {
      connection.sendCopyFromChunk(this.payload.subarray(offset, offset + CHUNK_BYTES));
    }
    connection.endCopyFrom();
  }

  handleCommandComplete(message: { text?: string }): void {
    const match = /COPY (\d+)/.exec(message.text ?? '');
    if (match) this.rowCount = Number(match[1]);
  }

  // After an error the client drops the statement without a ReadyForQuery call, so settle here.
  handleError(error: Error): void {
    this.settle(error);
  }

  handleReadyForQuery(): void {
    this.settle(undefined);
  }

  private settle(error: Error | undefined): void {
    if (this.settled) return;
    this.settled = true;
    this.done(error, this.rowCount);
  }

  // The pg client calls these for other statement kinds; COPY FROM never produces them.
  handleRowDescription(): void {}
  handleDataRow(): void {}
  handleEmptyQuery(): void {}
  handlePortalSuspended(): void {}
  handleCopyData(): void {}
}

/** Streams pre-encoded COPY text rows into `table (columns)`; resolves with the number of rows copied. */
export function copyFromStdin(manager: EntityManager, table: string, columns: readonly string[], payload: Buffer): Promise<number> {
  const client = (manager.queryRunner as unknown as { databaseConnection?: PgClient } | undefined)?.databaseConnection;
  if (!client) return Promise.reject(new Error('copyFromStdin needs an EntityManager bound to a query runner (a transaction)'));
  return copyWithClient(client, `COPY ${table} (${columns.join(', ')}) FROM STDIN`, payload);
}

export function copyWithClient(client: unknown, sql: string, payload: Buffer): Promise<number> {
  return new Promise((resolve, reject) => {
    (client as PgClient).query(new CopyFromStdin(sql, payload, (error, rows) => (error ? reject(error) : resolve(rows))));
  });
}

/** COPY's text format: NULL is \N, and backslash, tab, newline and carriage return are escaped. NUL cannot be stored and is dropped. */
export function copyField(value: string | number | boolean | null | undefined): string {
  if (value === null || value === undefined) return '\\N';
  if (typeof value === 'boolean') return value ? 't' : 'f';
  if (typeof value === 'number') return String(value);
  // Most values need no escaping; testing first spares building a new string.
  return NEEDS_ESCAPE.test(value) ? value.replace(ESCAPED, (c) => ESCAPES[c]) : value;
}

const NEEDS_ESCAPE = /[\\\t\n\r\0]/;
const ESCAPED = /[\\\t\n\r\0]/g;
const ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r', '\0': '' };

export function copyRow(fields: Array<string | number | boolean | null | undefined>): string {
  let row = copyField(fields[0]);
  for (let i = 1; i < fields.length; i++) row += '\t' + copyField(fields[i]);
  return row + '\n';
}

/**
 * COPY text gathered as UTF-8 bytes row by row. A row's string is written
 * out as soon as it is made, so it dies young: a batch held as thousands of
 * row strings until its end outlived the young generation, and the garbage
 * collector copied and then marked every one of them.
 */
export class CopyTextBuffer {
  private bytes = Buffer.allocUnsafe(64 * 1024);
  private length = 0;

  append(fields: Array<string | number | boolean | null | undefined>): void {
    const row = copyRow(fields);
    // A UTF-16 code unit never takes more than 3 bytes in UTF-8.
    const room = this.length + row.length * 3;
    if (room > this.bytes.length) {
      const grown = Buffer.allocUnsafe(Math.max(room, this.bytes.length * 2));
      this.bytes.copy(grown, 0, 0, this.length);
      this.bytes = grown;
    }
    this.length += this.bytes.write(row, this.length);
  }

  /** The rows appended so far, in a Buffer that owns its memory, cut to size: the encoding thread hands it over to the writing thread whole (transferred, not copied). */
  take(): Buffer {
    const taken = Buffer.allocUnsafeSlow(this.length);
    this.bytes.copy(taken, 0, 0, this.length);
    this.length = 0;
    return taken;
  }
}
