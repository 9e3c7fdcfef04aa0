import { Inject, Injectable } from '@nestjs/common';
import { createWriteStream } from 'node:fs';
import { access, chmod, chown, mkdir, mkdtemp, readdir, rename, rm, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { AppConfig } from '../../config/app-config';
import { APP_CONFIG } from '../../config/config.module';
import type { OsUser } from '../../config/os-user';
import { isUuid } from '../../database/uuid';

/** An upload (by its id) or a run directory (by its name), with when it was last written. */
export interface SpoolEntry {
  id: string;
  modifiedMs: number;
}

const UPLOAD_FILE = /^([0-9a-f-]{36})\.ocsf(\.part)?$/;

/**
 * Files on their way into a scan, under SCAN_SPOOL_DIR: uploads waiting for
 * the worker that ingests them (`imports/<upload id>.ocsf`) and the output
 * directories of Prowler runs (`runs/`). The directory is shared by the API
 * and the workers (a volume mounted in both when they run apart), which is
 * why an upload goes here and not into the database: it is streamed to disk
 * once, read back once as a stream, and deleted, never held in memory or in
 * a transaction.
 */
@Injectable()
export class ScanSpool {
  private readonly directory: string;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.directory = config.scans.spoolDir;
  }

  uploadPath(uploadId: string): string {
    // Upload ids come from job arguments: only ids we minted may name a file.
    if (!isUuid(uploadId)) throw new Error('An upload id must be a UUID');
    return join(this.directory, 'imports', `${uploadId}.ocsf`);
  }

  /**
   * Streams an upload to disk under a temporary name and renames it when
   * complete, so a reader never sees a partial file. Answers the bytes written.
   */
  async receive(uploadId: string, source: Readable): Promise<number> {
    const path = this.uploadPath(uploadId);
    await mkdir(join(this.directory, 'imports'), { recursive: true });
    const partial = `${path}.part`;
    const sink = createWriteStream(partial, { flags: 'wx', mode: 0o600 });
    try {
      await pipeline(source, sink);
      await rename(partial, path);
    } catch (error) {
      await rm(partial, { force: true });
      throw error;
    }
    return sink.bytesWritten;
  }

  async exists(uploadId: string): Promise<boolean> {
    return access(this.uploadPath(uploadId)).then(
      () => true,
      () => false,
    );
  }

  async remove(uploadId: string): Promise<void> {
    const path = this.uploadPath(uploadId);
    await rm(path, { force: true });
    await rm(`${path}.part`, { force: true });
  }

  /** Every upload in the spool, complete or partial. */
  async uploads(): Promise<SpoolEntry[]> {
    const directory = join(this.directory, 'imports');
    const entries: SpoolEntry[] = [];
    for (const name of await listDirectory(directory)) {
      const id = UPLOAD_FILE.exec(name)?.[1];
      if (id && isUuid(id)) entries.push({ id, modifiedMs: await modifiedMs(join(directory, name)) });
    }
    return entries;
  }

  /** Every engine run's output directory. */
  async runs(): Promise<SpoolEntry[]> {
    const directory = join(this.directory, 'runs');
    const names = await listDirectory(directory);
    return Promise.all(names.map(async (name) => ({ id: name, modifiedMs: await modifiedMs(join(directory, name)) })));
  }

  async removeRun(name: string): Promise<void> {
    // Names come from listing the directory; basename keeps a removal inside it all the same.
    await rm(join(this.directory, 'runs', basename(name)), { recursive: true, force: true });
  }

  /**
   * A fresh private directory for one engine run's output; the caller removes
   * it. Given an owner, the directory becomes that user's (still 0700), and
   * `runs/` lets it pass without listing the other runs (0711): SCAN_SPOOL_DIR
   * itself must be passable (o+x) for that user.
   */
  async runDirectory(scanId: string, owner: OsUser | null = null): Promise<string> {
    const runs = join(this.directory, 'runs');
    await mkdir(runs, { recursive: true, mode: 0o700 });
    const directory = await mkdtemp(join(runs, `${scanId}-`));
    if (owner) {
      await chmod(runs, 0o711);
      await chown(directory, owner.uid, owner.gid);
    }
    return directory;
  }
}

async function listDirectory(directory: string): Promise<string[]> {
  return readdir(directory).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return [];
    throw error;
  });
}

async function modifiedMs(path: string): Promise<number> {
  return (await stat(path)).mtimeMs;
}
