import { Inject, Injectable, Logger, Module } from '@nestjs/common';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { AppConfig } from '../../config/app-config';
import { APP_CONFIG } from '../../config/config.module';

/** What a check definition says beyond what its findings carry. */
export interface CheckFacts {
  categories: string[];
  resourceGroup: string | null;
}

interface LoadedChecks {
  byId: Map<string, CheckFacts>;
  skipped: Array<{ file: string; reason: string }>;
}

/** Prowler's layout: <provider>/services/<service>/<check>/<check>.metadata.json, so four levels below the folder. */
const METADATA_DEPTH = 4;
const METADATA_SUFFIX = '.metadata.json';

/** Reads one definition: CheckID is required, Categories and ResourceGroup are optional. */
export function checkFactsOf(text: string): { checkId: string; facts: CheckFacts } {
  const parsed: unknown = JSON.parse(text);
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not a JSON object');
  const definition = parsed as Record<string, unknown>;
  if (typeof definition.CheckID !== 'string' || definition.CheckID.trim() === '') throw new Error('CheckID is missing');
  const categories = Array.isArray(definition.Categories)
    ? [...new Set(definition.Categories.filter((c): c is string => typeof c === 'string' && c.trim() !== '').map((c) => c.trim().toLowerCase().slice(0, 100)))]
    : [];
  const group = typeof definition.ResourceGroup === 'string' && definition.ResourceGroup.trim() !== '' ? definition.ResourceGroup.trim().slice(0, 100) : null;
  return { checkId: definition.CheckID.trim().slice(0, 100), facts: { categories, resourceGroup: group } };
}

/** Every `*.metadata.json` under the folder (to Prowler's depth); a file that cannot be read as a definition is skipped with its reason. */
export function loadChecks(dir: string): LoadedChecks {
  const byId = new Map<string, CheckFacts>();
  const skipped: LoadedChecks['skipped'] = [];
  const walk = (folder: string, depth: number) => {
    let names: string[];
    try {
      names = readdirSync(folder).sort();
    } catch (error) {
      skipped.push({ file: folder, reason: error instanceof Error ? error.message : String(error) });
      return;
    }
    for (const name of names) {
      const path = join(folder, name);
      if (statSync(path).isDirectory()) {
        if (depth < METADATA_DEPTH) walk(path, depth + 1);
      } else if (name.endsWith(METADATA_SUFFIX)) {
        try {
          const { checkId, facts } = checkFactsOf(readFileSync(path, 'utf8'));
          byId.set(checkId, facts);
        } catch (error) {
          skipped.push({ file: path, reason: error instanceof Error ? error.message : String(error) });
        }
      }
    }
  };
  walk(dir, 0);
  return { byId, skipped };
}

/** Loaded once per process and folder, as the framework catalog is. */
const loadedByFolder = new Map<string, LoadedChecks>();

/**
 * The check definitions of the deployment's Prowler installation (see
 * AppConfig.checksDir): the only source of a check's resource group, which
 * an OCSF file does not carry, and of categories a file left empty.
 */
@Injectable()
export class CheckCatalog {
  private readonly checks: Map<string, CheckFacts>;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    const dir = config.checksDir;
    if (!dir) {
      this.checks = new Map();
      return;
    }
    let loaded = loadedByFolder.get(dir);
    if (!loaded) {
      loaded = loadChecks(dir);
      loadedByFolder.set(dir, loaded);
      const logger = new Logger('CheckCatalog');
      for (const { file, reason } of loaded.skipped) logger.warn(`Skipped check definition ${file}: ${reason}`);
      logger.log(`Loaded ${loaded.byId.size} check definitions from ${dir}`);
    }
    this.checks = loaded.byId;
  }

  factsOf(checkId: string): CheckFacts | undefined {
    return this.checks.get(checkId);
  }
}

@Module({ providers: [CheckCatalog], exports: [CheckCatalog] })
export class CheckCatalogModule {}
