import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { FileHandle, mkdir, open, readdir, rename, rm, rmdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { AppConfig } from '../../config/app-config';
import { APP_CONFIG } from '../../config/config.module';
import { isUuid } from '../../database/uuid';

/** Files being written (by the job, or for one download) live here until published or sent. */
const WORKING_FOLDER = '.tmp';

/**
 * Report zips on local disk (REPORTS_DIR): `<tenant id>/<scan id>.zip`. A
 * zip is written under a temporary name and renamed into place, so a reader
 * sees a whole file or none. Both names come from UUIDs, checked here, so no
 * request value ever becomes a path by itself.
 */
@Injectable()
export class ReportStorage {
  private readonly root: string;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.root = config.reports.dir;
  }

  /** The published report of a scan, opened for reading, or null when there is none. */
  async open(tenantId: string, scanId: string): Promise<FileHandle | null> {
    try {
      return await open(this.pathOf(tenantId, scanId), 'r');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
  }

  /** A fresh path to write a zip to before it is published or sent. */
  async workingPath(): Promise<string> {
    const folder = join(this.root, WORKING_FOLDER);
    await mkdir(folder, { recursive: true });
    return join(folder, `${randomUUID()}.zip`);
  }

  /** Moves a finished zip into place, replacing the scan's earlier report. */
  async publish(workingPath: string, tenantId: string, scanId: string): Promise<void> {
    const target = this.pathOf(tenantId, scanId);
    await mkdir(join(this.root, tenantId), { recursive: true });
    await rename(workingPath, target);
  }

  /** Removes the published reports of the given scans (a deleted provider's), compliance reports included. */
  async removeReports(tenantId: string, scanIds: readonly string[]): Promise<void> {
    for (const scanId of scanIds) {
      await rm(this.pathOf(tenantId, scanId), { force: true });
      await rm(this.complianceFolderOf(tenantId, scanId), { recursive: true, force: true });
    }
  }

  /**
   * One compliance report of a scan (a name from compliance-report-files.ts,
   * never a request value by itself), opened for reading, or null.
   */
  async openCompliance(tenantId: string, scanId: string, fileName: string): Promise<FileHandle | null> {
    try {
      return await open(join(this.complianceFolderOf(tenantId, scanId), fileName), 'r');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
  }

  /** The file names of a scan's published compliance reports (none before they are published). */
  async complianceFileNames(tenantId: string, scanId: string): Promise<string[]> {
    try {
      return (await readdir(this.complianceFolderOf(tenantId, scanId))).sort();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
  }

  /** A fresh folder to write a scan's compliance reports into before they are published. */
  async workingFolder(): Promise<string> {
    const folder = join(this.root, WORKING_FOLDER, randomUUID());
    await mkdir(folder, { recursive: true });
    return folder;
  }

  /** Moves a finished folder of compliance reports into place, replacing the scan's earlier ones. */
  async publishCompliance(workingFolder: string, tenantId: string, scanId: string): Promise<void> {
    const target = this.complianceFolderOf(tenantId, scanId);
    await mkdir(join(this.root, tenantId), { recursive: true });
    await rm(target, { recursive: true, force: true });
    await rename(workingFolder, target);
  }

  async discardFolder(path: string): Promise<void> {
    await rm(path, { recursive: true, force: true });
  }

  async discard(path: string): Promise<void> {
    await rm(path, { force: true });
  }

  /**
   * Removes every file (published or left behind by a crashed writer) last
   * written before `cutoff`, and the tenant folders that end up empty.
   * Returns how many files went.
   */
  async removeOlderThan(cutoff: Date): Promise<number> {
    let removed = 0;
    for (const folder of await this.entries(this.root)) {
      if (!folder.isDirectory()) continue;
      const path = join(this.root, folder.name);
      const files = await this.entries(path);
      let left = files.length;
      for (const file of files) {
        const filePath = join(path, file.name);
        if (file.isDirectory()) {
          // A scan's compliance reports (or a crashed writer's working folder) go as a whole.
          const info = await stat(filePath).catch(() => null);
          if (info && info.mtime < cutoff) {
            await rm(filePath, { recursive: true, force: true });
            removed++;
            left--;
          }
          continue;
        }
        if (!file.isFile()) continue;
        const info = await stat(filePath).catch(() => null);
        if (info && info.mtime < cutoff) {
          await rm(filePath, { force: true });
          removed++;
          left--;
        }
      }
      // rmdir, not rm -r: a report published into the folder meanwhile makes it fail, and stays.
      if (left === 0 && folder.name !== WORKING_FOLDER) await rmdir(path).catch(() => undefined);
    }
    return removed;
  }

  private pathOf(tenantId: string, scanId: string): string {
    if (!isUuid(tenantId) || !isUuid(scanId)) throw new Error('Report paths are built from a tenant id and a scan id only.');
    return join(this.root, tenantId, `${scanId}.zip`);
  }

  private complianceFolderOf(tenantId: string, scanId: string): string {
    if (!isUuid(tenantId) || !isUuid(scanId)) throw new Error('Report paths are built from a tenant id and a scan id only.');
    return join(this.root, tenantId, `${scanId}-compliance`);
  }

  private async entries(path: string) {
    try {
      return await readdir(path, { withFileTypes: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
  }
}
