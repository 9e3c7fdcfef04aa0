import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { IngestionRecord } from '../../src/findings/ingestion/ingestion-record';
import { hash } from './finding-generator';

/** Prowler's framework files, beside the repository (CI has ../shared beside its clone); read in place, never copied. */
export const PROWLER_COMPLIANCE_DIR = resolve(__dirname, '..', '..', '..', '..', 'shared', 'prowler-compliance');

/** A framework as the tests read it, straight from the file, independently of the API's reader. */
export interface TestFramework {
  id: string;
  framework: string;
  version: string;
  name: string;
  description: string;
  requirements: Array<{ id: string; name: string; description: string; checks: string[]; attributes: any[] }>;
}

/** The frameworks Prowler applies to a provider type: its folder's files and the top-level files with checks for it. */
export function frameworksFor(providerType: string): TestFramework[] {
  const found: TestFramework[] = [];
  for (const file of readdirSync(join(PROWLER_COMPLIANCE_DIR, providerType)).filter((f) => f.endsWith('.json'))) {
    const data = JSON.parse(readFileSync(join(PROWLER_COMPLIANCE_DIR, providerType, file), 'utf8'));
    found.push({
      id: file.replace(/\.json$/, ''),
      framework: data.Framework,
      version: data.Version ?? '',
      name: data.Name ?? '',
      description: data.Description ?? '',
      requirements: data.Requirements.map((r: any) => ({ id: r.Id, name: r.Name ?? r.Id, description: r.Description ?? '', checks: r.Checks ?? [], attributes: r.Attributes ?? [] })),
    });
  }
  for (const file of readdirSync(PROWLER_COMPLIANCE_DIR).filter((f) => f.endsWith('.json'))) {
    const data = JSON.parse(readFileSync(join(PROWLER_COMPLIANCE_DIR, file), 'utf8'));
    if (!data.requirements.some((r: any) => (r.checks?.[providerType] ?? []).length > 0)) continue;
    found.push({
      id: file.replace(/\.json$/, ''),
      framework: data.framework,
      version: data.version ?? '',
      name: data.name ?? '',
      description: data.description ?? '',
      requirements: data.requirements.map((r: any) => ({
        id: r.id,
        name: r.name ?? r.id,
        description: r.description ?? '',
        checks: r.checks?.[providerType] ?? [],
        attributes: r.attributes && Object.keys(r.attributes).length > 0 ? [r.attributes] : [],
      })),
    });
  }
  // Prowler keys requirements by id: where a file repeats one, the last definition counts.
  for (const framework of found) framework.requirements = [...new Map(framework.requirements.map((r) => [r.id, r])).values()];
  return found.sort((a, b) => a.id.localeCompare(b.id));
}

/** Real check ids of a provider type (those its ThreatScore and CIS frameworks name), so findings decide real requirements. */
export function checksOf(frameworks: TestFramework[]): string[] {
  const wanted = frameworks.filter((f) => f.id.startsWith('prowler_threatscore_') || f.id.startsWith('cis_'));
  return [...new Set(wanted.flatMap((f) => f.requirements.flatMap((r) => r.checks)))].sort();
}

/** Generated records given real check ids; a quarter of the checks get no finding, and every 23rd finding is muted. */
export function withRealChecks(records: Iterable<IngestionRecord>, checks: string[]): IngestionRecord[] {
  const used = checks.filter((c) => hash(`unused:${c}`) % 4 !== 0);
  return [...records].map((r, i) => ({ ...r, checkId: used[hash(r.checkId) % used.length], muted: i % 23 === 0 }));
}
