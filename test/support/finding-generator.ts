import type { IngestionRecord } from '../../src/findings/ingestion/ingestion-record';

/**
 * Synthetic Prowler findings with a realistic spread: 20 services of 15
 * checks each (a fixed severity per check, mostly medium and low), 17
 * regions, about six checks per resource, a third failing, a few tagged
 * resources and compliance mappings per check. The same provider key and
 * size give the same finding uids in every scan; `scanIndex` flips the status
 * of about 5% of them from one scan to the next, so delta has work to do.
 */
export const SERVICES = [
  'ec2', 's3', 'iam', 'rds', 'lambda', 'cloudtrail', 'kms', 'vpc', 'elb', 'eks',
  'ecr', 'sns', 'sqs', 'dynamodb', 'guardduty', 'config', 'cloudwatch', 'secretsmanager', 'efs', 'apigateway',
] as const;
export const REGIONS = [
  'us-east-1', 'us-east-2', 'us-west-1', 'us-west-2', 'eu-west-1', 'eu-west-2', 'eu-west-3', 'eu-central-1', 'eu-north-1',
  'ap-south-1', 'ap-northeast-1', 'ap-northeast-2', 'ap-southeast-1', 'ap-southeast-2', 'ca-central-1', 'sa-east-1', 'me-south-1',
] as const;
export const CHECKS_PER_SERVICE = 15;
const CHECKS_PER_RESOURCE = 6;
const SEVERITY_WEIGHTS: Array<[IngestionRecord['severity'], number]> = [
  ['critical', 0.05], ['high', 0.2], ['medium', 0.35], ['low', 0.25], ['informational', 0.15],
];
const FRAMEWORKS = ['CIS-2.0', 'CIS-3.0', 'ISO27001-2013', 'SOC2', 'PCI-3.2.1', 'NIST-800-53-Revision-5', 'GDPR', 'HIPAA'];

export interface GeneratorOptions {
  /** Names the provider: its account id and resource names derive from it. */
  providerKey: string;
  count: number;
  scanIndex?: number;
  /** Fraction of findings whose status differs from scan 0 in a later scan. */
  changeRate?: number;
}

/** FNV-1a: a small stable hash for choosing values deterministically. */
export function hash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

function fraction(text: string): number {
  return hash(text) / 0x100000000;
}

function severityOf(checkId: string): IngestionRecord['severity'] {
  let point = fraction(`severity:${checkId}`);
  for (const [severity, weight] of SEVERITY_WEIGHTS) {
    if (point < weight) return severity;
    point -= weight;
  }
  return 'informational';
}

function complianceOf(checkId: string): Record<string, string[]> {
  const compliance: Record<string, string[]> = {};
  const frameworks = 2 + (hash(`frameworks:${checkId}`) % 3);
  for (let f = 0; f < frameworks; f++) {
    const framework = FRAMEWORKS[(hash(checkId) + f * 3) % FRAMEWORKS.length];
    const requirements = 1 + (hash(`${framework}:${checkId}`) % 2);
    compliance[framework] = Array.from({ length: requirements }, (_, r) => `${1 + (hash(`${checkId}:${r}`) % 5)}.${1 + (hash(`${framework}:${r}:${checkId}`) % 20)}`);
  }
  return compliance;
}

/** Some of Prowler's check categories, two of them attack surfaces. */
const CATEGORIES = ['encryption', 'logging', 'internet-exposed', 'secrets', 'identity-access', 'forensics-ready'];

/** None, one or two categories per check, fixed by its id. */
export function categoriesOf(checkId: string): string[] {
  const count = hash(`categories:${checkId}`) % 3;
  return [...new Set(Array.from({ length: count }, (_, c) => CATEGORIES[hash(`${checkId}:category:${c}`) % CATEGORIES.length]))];
}

export function* generateRecords(options: GeneratorOptions): Generator<IngestionRecord> {
  const account = String(100000000000 + (hash(options.providerKey) % 899999999999));
  const scanIndex = options.scanIndex ?? 0;
  const changeRate = options.changeRate ?? 0.05;
  for (let i = 0; i < options.count; i++) {
    const service = SERVICES[i % SERVICES.length];
    const j = Math.floor(i / SERVICES.length);
    const resourceIndex = Math.floor(j / CHECKS_PER_RESOURCE);
    const checkId = `${service}_check_${String(((j % CHECKS_PER_RESOURCE) + resourceIndex) % CHECKS_PER_SERVICE).padStart(2, '0')}`;
    const resourceName = `${service}-res-${resourceIndex}`;
    const region = REGIONS[hash(`${options.providerKey}:${resourceName}`) % REGIONS.length];
    const resourceUid = `arn:aws:${service}:${region}:${account}:${resourceName}`;
    const uid = `prowler-aws-${checkId}-${account}-${region}-${resourceName}`;
    const base = fraction(`status:${uid}`);
    let status: IngestionRecord['status'] = base < 0.35 ? 'FAIL' : base < 0.95 ? 'PASS' : 'MANUAL';
    if (scanIndex > 0 && fraction(`change:${scanIndex}:${uid}`) < changeRate) status = status === 'FAIL' ? 'PASS' : 'FAIL';
    const tagged = hash(`tags:${resourceUid}`) % 4 === 0;
    yield {
      uid,
      checkId,
      checkTitle: `Check ${checkId.replace(/_/g, ' ')}`,
      status,
      statusExtended: `${resourceName} ${status === 'PASS' ? 'passes' : 'does not pass'} ${checkId}.`,
      severity: severityOf(checkId),
      muted: false,
      region,
      service,
      resourceType: `Aws${service[0].toUpperCase()}${service.slice(1)}Resource`,
      resources: [
        {
          uid: resourceUid,
          name: resourceName,
          region,
          service,
          type: `Aws${service[0].toUpperCase()}${service.slice(1)}Resource`,
          tags: tagged ? { env: ['prod', 'dev', 'staging'][hash(resourceUid) % 3], owner: `team-${hash(resourceName) % 5}` } : {},
        },
      ],
      compliance: complianceOf(checkId),
      categories: categoriesOf(checkId),
    };
  }
}

/** Splits an iterable into arrays of `size`. */
export function* batches<T>(items: Iterable<T>, size: number): Generator<T[]> {
  let batch: T[] = [];
  for (const item of items) {
    batch.push(item);
    if (batch.length === size) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length) yield batch;
}
