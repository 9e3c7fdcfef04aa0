/**
 * A Prowler compliance framework as this API uses it, for one provider type.
 * Prowler ships two file shapes: per-provider files (`aws/cis_2.0_aws.json`:
 * `Framework`, `Requirements[].Checks` a list, `Attributes` a list) and
 * universal top-level files (`csa_ccm_4.0.json`: lower-case keys,
 * `checks` per provider, `attributes` one object). Both read into this.
 */
export interface RequirementDefinition {
  id: string;
  name: string;
  description: string;
  /** The checks whose findings decide it, for this provider type; none: it needs a manual check. */
  checks: string[];
  /** As Prowler's API lists them (`attributes.metadata`): one object per attribute entry. */
  attributes: Record<string, unknown>[];
  /** MITRE ATT&CK requirements are techniques: their tactics, sub-techniques, platforms and page. */
  technique?: TechniqueDetails;
}

export interface TechniqueDetails {
  tactics: string[];
  subtechniques: string[];
  platforms: string[];
  technique_url: string;
}

export interface FrameworkDefinition {
  /** The file's name without `.json`, Prowler's compliance id: `cis_2.0_aws`, `csa_ccm_4.0`. */
  complianceId: string;
  framework: string;
  name: string;
  version: string;
  description: string;
  providerType: string;
  /** A top-level file covering several provider types. */
  universal: boolean;
  /** Universal frameworks that declare an output configuration get an OCSF compliance export. */
  ocsfExport: boolean;
  /** Attribute keys an export shows (`attributes_metadata[].output_formats`); null: all. */
  exportedAttributes: { csv: Set<string> | null; ocsf: Set<string> | null };
  requirements: RequirementDefinition[];
}

type Json = Record<string, unknown>;

/** A MITRE ATT&CK requirement's technique fields (Prowler's files: Tactics, SubTechniques, Platforms, TechniqueURL). */
function techniqueOf(raw: Json): TechniqueDetails {
  const names = (value: unknown) => (Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : []);
  return { tactics: names(raw.Tactics), subtechniques: names(raw.SubTechniques), platforms: names(raw.Platforms), technique_url: text(raw.TechniqueURL) };
}

/**
 * Reads one parsed framework file into a definition per provider type it
 * covers. Throws, saying what is wrong, when the file is not a framework.
 * `folderProvider` is the provider folder the file sits in (null at the top).
 */
export function readFrameworkFile(complianceId: string, folderProvider: string | null, content: unknown): FrameworkDefinition[] {
  if (!isObject(content)) throw new Error('not a JSON object');
  if (Array.isArray(content.Requirements)) return [readProviderFile(complianceId, folderProvider, content)];
  if (Array.isArray(content.requirements)) return readUniversalFile(complianceId, content);
  throw new Error('no Requirements list');
}

function readProviderFile(complianceId: string, folderProvider: string | null, content: Json): FrameworkDefinition {
  const providerType = (text(content.Provider) || folderProvider || '').toLowerCase();
  if (!providerType) throw new Error('no Provider');
  const requirements = (content.Requirements as unknown[]).map((raw, index) => {
    if (!isObject(raw)) throw new Error(`requirement ${index} is not an object`);
    const id = text(raw.Id);
    if (!id) throw new Error(`requirement ${index} has no Id`);
    const checks = raw.Checks === undefined ? [] : raw.Checks;
    if (!Array.isArray(checks) || !checks.every((c) => typeof c === 'string')) throw new Error(`requirement ${id}: Checks must be a list of names`);
    const attributes = raw.Attributes === undefined ? [] : raw.Attributes;
    if (!Array.isArray(attributes) || !attributes.every(isObject)) throw new Error(`requirement ${id}: Attributes must be a list of objects`);
    const technique = complianceId.includes('mitre_attack') ? techniqueOf(raw) : undefined;
    return {
      id, name: text(raw.Name) || id, description: text(raw.Description), checks: [...new Set(checks as string[])], attributes: attributes as Json[],
      ...(technique ? { technique } : {}),
    };
  });
  return {
    complianceId,
    framework: required(content.Framework, 'Framework'),
    name: text(content.Name),
    version: text(content.Version),
    description: text(content.Description),
    providerType,
    universal: false,
    ocsfExport: false,
    exportedAttributes: { csv: null, ocsf: null },
    requirements: lastOfEachId(requirements),
  };
}

/**
 * A few files repeat a requirement id; Prowler keys requirements by id, so
 * the last one with an id is the one that counts (in the first one's place).
 */
function lastOfEachId<R extends { id: string }>(requirements: R[]): R[] {
  return [...new Map(requirements.map((r) => [r.id, r])).values()];
}

function readUniversalFile(complianceId: string, content: Json): FrameworkDefinition[] {
  const raws = content.requirements as unknown[];
  const providers = new Set<string>();
  const parsed = raws.map((raw, index) => {
    if (!isObject(raw)) throw new Error(`requirement ${index} is not an object`);
    const id = text(raw.id);
    if (!id) throw new Error(`requirement ${index} has no id`);
    const checks = raw.checks === undefined ? {} : raw.checks;
    if (!isObject(checks)) throw new Error(`requirement ${id}: checks must be an object of provider lists`);
    const byProvider = new Map<string, string[]>();
    for (const [provider, list] of Object.entries(checks)) {
      if (!Array.isArray(list) || !list.every((c) => typeof c === 'string')) throw new Error(`requirement ${id}: checks.${provider} must be a list of names`);
      byProvider.set(provider.toLowerCase(), [...new Set(list as string[])]);
      if (list.length > 0) providers.add(provider.toLowerCase());
    }
    const attributes = raw.attributes === undefined || raw.attributes === null ? {} : raw.attributes;
    if (!isObject(attributes) && !Array.isArray(attributes)) throw new Error(`requirement ${id}: attributes must be an object`);
    const list = Array.isArray(attributes) ? (attributes.filter(isObject) as Json[]) : Object.keys(attributes).length > 0 ? [attributes] : [];
    return { id, name: text(raw.name) || id, description: text(raw.description), byProvider, attributes: list };
  });
  const outputs = isObject(content.outputs) ? content.outputs : null;
  const exportedAttributes = exportedAttributeKeys(content.attributes_metadata);
  return [...providers].sort().map((providerType) => ({
    complianceId,
    framework: required(content.framework, 'framework'),
    name: text(content.name),
    version: text(content.version),
    description: text(content.description),
    providerType,
    universal: true,
    ocsfExport: outputs !== null,
    exportedAttributes,
    requirements: lastOfEachId(parsed.map(({ byProvider, ...requirement }) => ({ ...requirement, checks: byProvider.get(providerType) ?? [] }))),
  }));
}

function exportedAttributeKeys(metadata: unknown): FrameworkDefinition['exportedAttributes'] {
  if (!Array.isArray(metadata)) return { csv: null, ocsf: null };
  const keys = (format: 'csv' | 'ocsf') =>
    new Set(
      metadata
        .filter(isObject)
        .filter((entry) => !isObject(entry.output_formats) || entry.output_formats[format] !== false)
        .map((entry) => text(entry.key)),
    );
  return { csv: keys('csv'), ocsf: keys('ocsf') };
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function text(value: unknown): string {
  return typeof value === 'string' ? value : typeof value === 'number' ? String(value) : '';
}

function required(value: unknown, name: string): string {
  const found = text(value);
  if (!found) throw new Error(`no ${name}`);
  return found;
}
