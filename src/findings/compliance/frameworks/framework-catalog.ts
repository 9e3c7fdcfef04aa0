import { Inject, Injectable, Logger, Module } from '@nestjs/common';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { AppConfig } from '../../../config/app-config';
import { APP_CONFIG } from '../../../config/config.module';
import { FrameworkDefinition, readFrameworkFile } from './framework-definition';

/** The frameworks of one provider type, by compliance id. */
export type ProviderFrameworks = ReadonlyMap<string, FrameworkDefinition>;

export interface LoadedCatalog {
  byProvider: ReadonlyMap<string, ProviderFrameworks>;
  /** Files that could not be read, with why: logged at start, never fatal. */
  skipped: ReadonlyArray<{ file: string; reason: string }>;
}

/**
 * Reads every framework file of a Prowler `compliance/` folder: the
 * provider folders' files and the top-level universal ones. A file that is
 * not valid JSON or not a framework is skipped and reported, so one bad file
 * never keeps the rest (or the process) from starting.
 */
export function loadFrameworks(dir: string): LoadedCatalog {
  const byProvider = new Map<string, Map<string, FrameworkDefinition>>();
  const skipped: Array<{ file: string; reason: string }> = [];
  const files: Array<{ path: string; folderProvider: string | null }> = [];
  for (const entry of readdirSync(dir).sort()) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) {
      for (const name of readdirSync(path).sort()) if (name.endsWith('.json')) files.push({ path: join(path, name), folderProvider: entry.toLowerCase() });
    } else if (entry.endsWith('.json')) {
      files.push({ path, folderProvider: null });
    }
  }
  for (const { path, folderProvider } of files) {
    try {
      const definitions = readFrameworkFile(basename(path, '.json'), folderProvider, JSON.parse(readFileSync(path, 'utf8')));
      for (const definition of definitions) {
        const frameworks = byProvider.get(definition.providerType) ?? new Map<string, FrameworkDefinition>();
        frameworks.set(definition.complianceId, definition);
        byProvider.set(definition.providerType, frameworks);
      }
    } catch (error) {
      skipped.push({ file: path, reason: error instanceof Error ? error.message : String(error) });
    }
  }
  return { byProvider, skipped };
}

/** Loaded once per process and folder: API and in-process workers, and every app a test starts, share it. */
const loadedByFolder = new Map<string, LoadedCatalog>();

/**
 * The framework definitions this deployment knows (see AppConfig.complianceDir),
 * indexed per provider type. Empty when no folder is configured: compliance is
 * then read from the findings' own mappings.
 */
@Injectable()
export class FrameworkCatalog {
  private readonly catalog: LoadedCatalog;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    const dir = config.complianceDir;
    if (!dir) {
      this.catalog = { byProvider: new Map(), skipped: [] };
      return;
    }
    let catalog = loadedByFolder.get(dir);
    if (!catalog) {
      catalog = loadFrameworks(dir);
      loadedByFolder.set(dir, catalog);
      const logger = new Logger('FrameworkCatalog');
      for (const { file, reason } of catalog.skipped) logger.warn(`Skipped compliance framework file ${file}: ${reason}`);
      const count = [...catalog.byProvider.values()].reduce((sum, frameworks) => sum + frameworks.size, 0);
      logger.log(`Loaded ${count} compliance frameworks for ${catalog.byProvider.size} provider types from ${dir}`);
    }
    this.catalog = catalog;
  }

  /** The provider type's frameworks, or null when none is loaded for it (its compliance then comes from finding mappings). */
  frameworksOf(providerType: string): ProviderFrameworks | null {
    return this.catalog.byProvider.get(providerType) ?? null;
  }

  framework(providerType: string, complianceId: string): FrameworkDefinition | null {
    return this.catalog.byProvider.get(providerType)?.get(complianceId) ?? null;
  }

  /** Every provider type that has the compliance id, in name order. */
  providerTypesWith(complianceId: string): string[] {
    return [...this.catalog.byProvider.entries()].filter(([, frameworks]) => frameworks.has(complianceId)).map(([type]) => type).sort();
  }

  get loaded(): boolean {
    return this.catalog.byProvider.size > 0;
  }
}

/** One catalog per application, shared by the HTTP side and the workers. */
@Module({ providers: [FrameworkCatalog], exports: [FrameworkCatalog] })
export class FrameworkCatalogModule {}
