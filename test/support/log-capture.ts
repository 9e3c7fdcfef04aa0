import { Writable } from 'node:stream';

/** Collects the JSON log lines an application writes. */
export class LogCapture extends Writable {
  readonly lines: string[] = [];
  override _write(chunk: Buffer, _encoding: string, done: () => void): void {
    this.lines.push(...chunk.toString().split('\n').filter(Boolean));
    done();
  }

  parsed(): Array<Record<string, any>> {
    return this.lines.map((line) => JSON.parse(line));
  }
}
