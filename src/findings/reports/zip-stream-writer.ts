import { once } from 'node:events';
import { createWriteStream, WriteStream } from 'node:fs';
import { Zip, ZipDeflate } from 'fflate';

const encoder = new TextEncoder();

/**
 * A zip written to a file as it is produced, one entry after another, with
 * the file's back-pressure respected: memory holds a page of text and the
 * compressor's window, never a whole entry.
 */
export class ZipStreamWriter {
  private readonly out: WriteStream;
  private readonly zip: Zip;
  private readonly produced: Uint8Array[] = [];
  private failure: Error | null = null;

  constructor(path: string) {
    this.out = createWriteStream(path);
    this.out.on('error', (error) => (this.failure ??= error));
    // fflate calls back synchronously from push(); the chunks are written out (awaiting drain) after each push.
    this.zip = new Zip((error, chunk) => {
      if (error) this.failure ??= error;
      else this.produced.push(chunk);
    });
  }

  /** Adds an entry and fills it through `write`, which is called with an appender; entries are written in order. */
  async entry(name: string, fill: (append: (text: string) => Promise<void>) => Promise<void>): Promise<void> {
    const file = new ZipDeflate(name, { level: 6 });
    this.zip.add(file);
    await fill(async (text) => {
      file.push(encoder.encode(text));
      await this.flush();
    });
    file.push(new Uint8Array(0), true);
    await this.flush();
  }

  /** Writes the central directory and closes the file. */
  async close(): Promise<void> {
    this.zip.end();
    await this.flush();
    this.out.end();
    if (!this.out.closed) await once(this.out, 'close');
    if (this.failure) throw this.failure;
  }

  /** Closes the file after a failure, without finishing the archive. */
  abort(): void {
    this.zip.terminate();
    this.out.destroy();
  }

  private async flush(): Promise<void> {
    if (this.failure) throw this.failure;
    for (const chunk of this.produced.splice(0)) {
      if (!this.out.write(chunk)) await once(this.out, 'drain');
      if (this.failure) throw this.failure;
    }
  }
}
