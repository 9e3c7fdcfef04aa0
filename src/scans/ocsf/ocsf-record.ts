import { PROVIDER_TYPES, ProviderType } from '../../providers/provider-uid-rules';

/**
 * A Prowler finding as the rest of the application sees it, normalised from
 * one OCSF Detection Finding of a `prowler <provider> -M json-ocsf` output.
 *
 * Where each field comes from (checked against Prowler's own example output
 * and its OCSF writer, prowler/lib/outputs/ocsf/ocsf.py):
 *   uid             finding_info.uid
 *   checkId         metadata.event_code
 *   checkTitle      finding_info.title
 *   status          status_code
 *   statusExtended  status_detail (Prowler writes the same text to `message`)
 *   severity        severity, or severity_id when the caption is absent
 *   muted           status 'Suppressed' / status_id 3: Prowler has no `muted`
 *                   field, it marks a muted finding through its OCSF status
 *   providerType    cloud.provider; Kubernetes findings carry no `cloud`
 *                   object, only the 'container' profile in metadata.profiles
 *   accountUid      cloud.account.uid ('' for Kubernetes, which has none)
 *   region          cloud.region, else the first resource's region or namespace
 *   resources[]     resources[]: uid, name, region (namespace for Kubernetes),
 *                   group.name as service, type, labels as tags, data.details,
 *                   data.metadata (kept as JSON text), cloud_partition as partition
 *   compliance      unmapped.compliance: framework -> requirement ids
 *   categories      unmapped.categories: the check's categories
 *   eventTime       time (epoch seconds)
 *
 * Prowler writes no first-seen time: first_seen_at comes from ingestion's
 * latest-state table, not from the file.
 */
export interface OcsfRecord {
  uid: string;
  checkId: string;
  checkTitle: string;
  status: FindingStatus;
  statusExtended: string;
  severity: Severity;
  muted: boolean;
  providerType: ProviderType;
  accountUid: string;
  region: string;
  service: string;
  resourceType: string;
  resources: OcsfResource[];
  compliance: Record<string, string[]>;
  /** The check's categories, lower case, without duplicates. */
  categories: string[];
  eventTime?: Date;
}

export interface OcsfResource {
  uid: string;
  name: string;
  region: string;
  service: string;
  type: string;
  tags: Record<string, string>;
  details?: string;
  partition?: string;
  /** data.metadata as JSON text, as Prowler stores and answers it. */
  metadata?: string;
}

/** One element of the file's top-level array, as JSON.parse returned it. */
export type RawOcsfFinding = Record<string, unknown>;

export const FINDING_STATUSES = ['PASS', 'FAIL', 'MANUAL'] as const;
export type FindingStatus = (typeof FINDING_STATUSES)[number];

export const SEVERITIES = ['critical', 'high', 'medium', 'low', 'informational'] as const;
export type Severity = (typeof SEVERITIES)[number];

export const DETECTION_FINDING_CLASS_UID = 2004;

/** OCSF StatusID 3, which Prowler writes for a muted finding. */
const STATUS_ID_SUPPRESSED = 3;

/** OCSF SeverityID values 1 to 5, the only ones Prowler writes for a check. */
const SEVERITY_BY_ID: Record<number, Severity> = { 1: 'informational', 2: 'low', 3: 'medium', 4: 'high', 5: 'critical' };

/** Older Prowler releases called the Microsoft 365 provider by its long name. */
const PROVIDER_TYPE_ALIASES: Record<string, string> = { microsoft365: 'm365' };

export type NormaliseResult = { record: OcsfRecord; problems?: undefined } | { record?: undefined; problems: string[] };

/**
 * The provider type a finding was produced for, lower case, or undefined when
 * the finding does not say. Not checked against the supported types here, so
 * the reader can name an unexpected provider in its error.
 */
export function detectProviderType(finding: RawOcsfFinding): string | undefined {
  const cloudProvider = text(field(finding, 'cloud', 'provider'))?.toLowerCase();
  if (cloudProvider) return PROVIDER_TYPE_ALIASES[cloudProvider] ?? cloudProvider;
  const profiles = field(finding, 'metadata', 'profiles');
  if (Array.isArray(profiles) && profiles.includes('container')) return 'kubernetes';
  return undefined;
}

/**
 * Turns a Detection Finding into a record, or lists the required fields it
 * lacks. Required are the fields without which ingestion cannot store it:
 *   finding_info.uid     findings are unique per (scan, uid), and delta and
 *                        first_seen_at are keyed by (provider, uid)
 *   metadata.event_code  the check id: filters, overviews and compliance group by it
 *   status_code          PASS/FAIL/MANUAL drives every overview and status filter
 *   severity             the severity overview and filters
 *   resources[].uid      resources are upserted by (provider, uid) and linked to
 *                        their findings, so a finding needs at least one
 *   provider type        a supported one, to match the file to the scan's provider
 * Everything else is optional and defaults to '' (or is left out).
 */
export function normaliseOcsfFinding(finding: RawOcsfFinding): NormaliseResult {
  const problems: string[] = [];

  const uid = text(field(finding, 'finding_info', 'uid'));
  if (!uid) problems.push('finding_info.uid is missing');

  const checkId = text(field(finding, 'metadata', 'event_code'));
  if (!checkId) problems.push('metadata.event_code (check id) is missing');

  const status = findingStatusOf(finding.status_code);
  if (!status) problems.push(describeInvalid('status_code', finding.status_code, 'PASS, FAIL or MANUAL'));

  const severity = severityOf(finding);
  if (!severity) problems.push(describeInvalid('severity', finding.severity, SEVERITIES.join(', ')));

  const providerType = detectProviderType(finding);
  if (!providerType) problems.push('cloud.provider is missing');
  else if (!isProviderType(providerType)) problems.push(`provider type '${providerType}' is not supported`);

  const rawResources = Array.isArray(finding.resources) ? finding.resources : [];
  if (rawResources.length === 0) problems.push('resources is missing or empty');
  rawResources.forEach((resource, position) => {
    if (!text(field(resource, 'uid'))) problems.push(`resources[${position}].uid is missing`);
  });

  if (problems.length > 0 || !uid || !checkId || !status || !severity || !providerType || !isProviderType(providerType)) {
    return { problems };
  }

  const region =
    text(field(finding, 'cloud', 'region')) ?? text(field(rawResources[0], 'region')) ?? text(field(rawResources[0], 'namespace')) ?? '';
  // Prowler check ids are `<service>_<what is checked>`, so the prefix stands in for a missing group.name.
  const underscore = checkId.indexOf('_');
  const checkService = underscore < 0 ? checkId : checkId.slice(0, underscore);
  const resources = rawResources.map((resource) => normaliseResource(resource, region, checkService));

  return {
    record: {
      uid,
      checkId,
      checkTitle: text(field(finding, 'finding_info', 'title')) ?? '',
      status,
      statusExtended: text(finding.status_detail) ?? text(finding.message) ?? '',
      severity,
      muted: finding.status_id === STATUS_ID_SUPPRESSED || finding.status === 'Suppressed',
      providerType,
      accountUid: text(field(finding, 'cloud', 'account', 'uid')) ?? '',
      region,
      service: resources[0].service,
      resourceType: resources[0].type,
      resources,
      compliance: complianceOf(field(finding, 'unmapped', 'compliance')),
      categories: categoriesOf(field(finding, 'unmapped', 'categories')),
      eventTime: eventTimeOf(finding),
    },
  };
}

function normaliseResource(resource: unknown, findingRegion: string, checkService: string): OcsfResource {
  const details = text(field(resource, 'data', 'details'));
  const partition = text(field(resource, 'cloud_partition'));
  const metadata = field(resource, 'data', 'metadata');
  const normalised: OcsfResource = {
    uid: text(field(resource, 'uid')) ?? '',
    name: text(field(resource, 'name')) ?? '',
    region: text(field(resource, 'region')) ?? text(field(resource, 'namespace')) ?? findingRegion,
    service: text(field(resource, 'group', 'name')) ?? checkService,
    type: text(field(resource, 'type')) ?? '',
    tags: tagsFromLabels(field(resource, 'labels')),
  };
  // Set only when present, as before, without building an object per optional field.
  if (details) normalised.details = details;
  if (partition) normalised.partition = partition;
  if (isObject(metadata)) normalised.metadata = JSON.stringify(metadata);
  return normalised;
}

/**
 * Prowler flattens resource tags into labels "key:value" (older releases
 * wrote "key: value"). The first colon ends the key, except for AWS's
 * reserved keys such as "aws:cloudformation:stack-name", which have three
 * colon-separated parts of their own.
 */
function tagsFromLabels(labels: unknown): Record<string, string> {
  const tags: Record<string, string> = {};
  if (!Array.isArray(labels)) return tags;
  for (const label of labels) {
    if (typeof label !== 'string') continue;
    const keyParts = label.startsWith('aws:') ? 3 : 1;
    let separator = -1;
    for (let part = 0; part < keyParts; part++) {
      separator = label.indexOf(':', separator + 1);
      if (separator < 0) break;
    }
    if (separator <= 0) {
      tags[label] = '';
      continue;
    }
    const value = label.slice(separator + 1);
    tags[label.slice(0, separator)] = value.startsWith(' ') ? value.slice(1) : value;
  }
  return tags;
}

/** The compliance map with requirement ids as strings; Prowler's own, already in that form, is taken as it is rather than copied. */
function complianceOf(value: unknown): Record<string, string[]> {
  if (isObject(value) && isComplianceMap(value)) return value;
  const compliance: Record<string, string[]> = {};
  if (!isObject(value)) return compliance;
  for (const [framework, requirements] of Object.entries(value)) {
    if (!Array.isArray(requirements)) continue;
    compliance[framework] = requirements
      .filter((id) => typeof id === 'string' || typeof id === 'number')
      .map(String);
  }
  return compliance;
}

function isComplianceMap(value: Record<string, unknown>): value is Record<string, string[]> {
  for (const framework in value) {
    const requirements = value[framework];
    if (!Array.isArray(requirements)) return false;
    for (let i = 0; i < requirements.length; i++) if (typeof requirements[i] !== 'string') return false;
  }
  return true;
}

/** Prowler writes a check's categories as a list of names such as 'internet-exposed'; anything else is left out. */
function categoriesOf(value: unknown): string[] {
  if (!Array.isArray(value) || value.length === 0) return [];
  const names = value.filter((c): c is string => typeof c === 'string').map((c) => c.trim().toLowerCase().slice(0, 100));
  return [...new Set(names.filter((c) => c.length > 0))];
}

function findingStatusOf(value: unknown): FindingStatus | undefined {
  const status = typeof value === 'string' ? value.toUpperCase() : undefined;
  return FINDING_STATUSES.find((known) => known === status);
}

function severityOf(finding: RawOcsfFinding): Severity | undefined {
  if (typeof finding.severity === 'string') {
    const caption = finding.severity.toLowerCase();
    return SEVERITIES.find((known) => known === caption);
  }
  return typeof finding.severity_id === 'number' ? SEVERITY_BY_ID[finding.severity_id] : undefined;
}

/**
 * `time` is epoch seconds and unambiguous; `time_dt` is the scanning
 * machine's local time without a zone (the fixture's is an hour ahead of
 * `time`), so it is read only when `time` is absent and must then carry one.
 */
function eventTimeOf(finding: RawOcsfFinding): Date | undefined {
  if (typeof finding.time === 'number' && Number.isFinite(finding.time)) return new Date(finding.time * 1000);
  const zoned = text(finding.time_dt);
  if (zoned && /(Z|[+-]\d\d:?\d\d)$/.test(zoned)) {
    const date = new Date(zoned);
    if (!Number.isNaN(date.getTime())) return date;
  }
  return undefined;
}

function isProviderType(value: string): value is ProviderType {
  return (PROVIDER_TYPES as readonly string[]).includes(value);
}

function describeInvalid(path: string, value: unknown, expected: string): string {
  return value === undefined || value === null || value === ''
    ? `${path} is missing`
    : `${path} ${JSON.stringify(value)} is not one of ${expected}`;
}

/** A non-empty string, or undefined: Prowler writes '' for values it does not have. */
function text(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** value.first.second.third, undefined where a step is not an object. Fixed parameters rather than a rest array: it runs a dozen times per record. */
function field(value: unknown, first: string, second?: string, third?: string): unknown {
  let current = isObject(value) ? value[first] : undefined;
  if (second !== undefined) current = isObject(current) ? current[second] : undefined;
  if (third !== undefined) current = isObject(current) ? current[third] : undefined;
  return current;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
