import { FileHandle, open } from 'node:fs/promises';

/** Text appended to a file in large writes, so many files can be filled at once without a write per line. */
export class BufferedFile {
  private chunks: string[] = [];
  private size = 0;

  private constructor(private readonly handle: FileHandle) {}

  static async create(path: string): Promise<BufferedFile> {
    return new BufferedFile(await open(path, 'w'));
  }

  async write(text: string): Promise<void> {
    this.chunks.push(text);
    this.size += text.length;
    if (this.size >= 256 * 1024) await this.flush();
  }

  async close(): Promise<void> {
    await this.flush();
    await this.handle.close();
  }

  private async flush(): Promise<void> {
    if (this.chunks.length === 0) return;
    const text = this.chunks.join('');
    this.chunks = [];
    this.size = 0;
    await this.handle.write(text);
  }
}
