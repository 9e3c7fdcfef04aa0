import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** What a test's check definition says; written as Prowler's `<check>.metadata.json`. */
export interface CheckDefinition {
  provider: string;
  checkId: string;
  resourceGroup?: string;
  categories?: string[];
}

/**
 * A folder laid out as a Prowler installation's `providers/` folder
 * (`<provider>/services/<service>/<check>/<check>.metadata.json`, the
 * service being the check id's prefix), for PROWLER_CHECKS_DIR.
 */
export function writeCheckDefinitions(definitions: readonly CheckDefinition[]): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'cspm-checks-'));
  for (const { provider, checkId, resourceGroup, categories } of definitions) {
    const folder = join(dir, provider, 'services', checkId.split('_')[0], checkId);
    mkdirSync(folder, { recursive: true });
    const definition = { Provider: provider, CheckID: checkId, Categories: categories ?? [], ...(resourceGroup ? { ResourceGroup: resourceGroup } : {}) };
    writeFileSync(join(folder, `${checkId}.metadata.json`), JSON.stringify(definition));
  }
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
