import { Writable } from 'node:stream';
import { once } from 'node:events';
import { RawOcsfFinding } from './ocsf-record';

/**
 * Synthetic Prowler JSON-OCSF findings for seeding and benchmarks, shaped
 * like the records of Prowler's own example output (the fixture) and spread
 * roughly as a real account's scan: per record about 3% critical, 17% high,
 * 35% medium, 30% low and 15% informational; 40% FAIL, 55% PASS, 5% MANUAL;
 * over about 30 services, 15 regions and 200 check ids.
 *
 * As Prowler does, every check of a service runs against each resource, so
 * resources are shared by several findings and a finding uid (check,
 * account, region, resource) never repeats. The same options give the same
 * records.
 */
export type GeneratedProviderType = 'aws' | 'azure' | 'gcp';

export interface GenerateOcsfOptions {
  providerType: GeneratedProviderType;
  accountUid: string;
  count: number;
  seed: number;
  /** When the scan ran; a fixed date by default, so output depends on the options alone. */
  scanTime?: Date;
}

export function* generateOcsfRecords(options: GenerateOcsfOptions): Generator<RawOcsfFinding> {
  const catalog = PROVIDER_CATALOGS[options.providerType];
  const checks = checksOf(catalog);
  const random = seededRandom(options.seed);
  const scanTime = options.scanTime ?? DEFAULT_SCAN_TIME;
  let produced = 0;
  for (let resourceNumber = 0; produced < options.count; resourceNumber++) {
    const service = pick(random, catalog.services);
    const resource = generateResource(random, catalog, service, options.accountUid, resourceNumber);
    for (const check of checks.get(service.name) ?? []) {
      if (produced === options.count) return;
      yield findingOf(check, resource, catalog, options.accountUid, scanTime, statusOf(random, check));
      produced++;
    }
  }
}

/** Writes findings as Prowler does, one JSON array, waiting whenever the stream asks. Does not end the stream. */
export async function writeOcsfJsonArray(
  findings: Iterable<unknown> | AsyncIterable<unknown>,
  output: Writable,
  options: { indent?: number } = {},
): Promise<void> {
  const write = async (text: string): Promise<void> => {
    if (!output.write(text)) await once(output, 'drain');
  };
  let separator = '[\n';
  for await (const finding of findings) {
    await write(separator + JSON.stringify(finding, null, options.indent));
    separator = ',\n';
  }
  await write(separator === '[\n' ? '[]\n' : '\n]\n');
}

const DEFAULT_SCAN_TIME = new Date('2025-02-14T13:27:03Z');
const PROWLER_VERSION = '5.10.0';

interface ServiceProfile {
  name: string;
  /** Prowler's ResourceType for the service's resources. */
  resourceType: string;
  /** The path segment naming the resource kind in its uid. */
  kind: string;
}

interface ProviderCatalog {
  providerType: GeneratedProviderType;
  services: ServiceProfile[];
  regions: string[];
  account: { type: string; typeId: number };
  /** Only AWS findings carry a cloud partition; Prowler leaves the field out for the others. */
  partition?: string;
  frameworks: string[];
  resourceUid(service: ServiceProfile, region: string, accountUid: string, name: string): string;
}

interface CheckProfile {
  id: string;
  service: ServiceProfile;
  title: string;
  /** What a passing resource does, as in "have logging enabled". */
  phrase: string;
  severity: GeneratedSeverity;
  manual: boolean;
  compliance: Record<string, string[]>;
}

interface GeneratedResource {
  uid: string;
  name: string;
  region: string;
  service: ServiceProfile;
  labels: string[];
}

type GeneratedSeverity = 'Critical' | 'High' | 'Medium' | 'Low' | 'Informational';
type GeneratedStatus = 'PASS' | 'FAIL' | 'MANUAL';

/** Severity shares per check; with every check run equally often, they are the shares per record too. */
const SEVERITY_SHARES: Array<[GeneratedSeverity, number]> = [
  ['Critical', 0.03],
  ['High', 0.17],
  ['Medium', 0.35],
  ['Low', 0.3],
  ['Informational', 0.15],
];
const OCSF_SEVERITY_ID: Record<GeneratedSeverity, number> = { Informational: 1, Low: 2, Medium: 3, High: 4, Critical: 5 };

/** Manual checks always report MANUAL; the others fail 40 times in 95. */
const MANUAL_CHECK_SHARE = 0.05;
const FAIL_SHARE_OF_AUTOMATED = 0.4 / 0.95;

/** What checks verify, as check id suffix and title phrase; seven per service make about 200 check ids. */
const CHECK_SUBJECTS: Array<[string, string]> = [
  ['encryption_at_rest_enabled', 'have encryption at rest enabled'],
  ['not_publicly_accessible', 'are not publicly accessible'],
  ['logging_enabled', 'have logging enabled'],
  ['in_transit_encryption_enabled', 'encrypt data in transit'],
  ['backup_enabled', 'are backed up'],
  ['uses_customer_managed_key', 'use a customer-managed key'],
  ['deletion_protection_enabled', 'have deletion protection enabled'],
  ['multi_region_enabled', 'are replicated across regions'],
  ['no_secrets_in_configuration', 'hold no secrets in their configuration'],
  ['least_privilege_policy', 'follow a least-privilege policy'],
  ['minimum_tls_version_12', 'require TLS 1.2 or later'],
  ['automatic_updates_enabled', 'apply updates automatically'],
];
const CHECKS_PER_SERVICE = 7;

const RESOURCE_WORDS = ['prod', 'staging', 'dev', 'shared', 'payments', 'web', 'data', 'analytics', 'auth', 'batch'];
const TAG_VALUES: Record<string, string[]> = {
  Environment: ['production', 'staging', 'development'],
  Owner: ['platform-team', 'data-team', 'security-team', 'web-team'],
  CostCenter: ['cc-1001', 'cc-2002', 'cc-3003'],
};

const AWS_SERVICES: Array<[string, string, string]> = [
  ['accessanalyzer', 'Other', 'analyzer'],
  ['acm', 'AwsCertificateManagerCertificate', 'certificate'],
  ['apigateway', 'AwsApiGatewayRestApi', 'restapis'],
  ['athena', 'AwsAthenaWorkGroup', 'workgroup'],
  ['autoscaling', 'AwsAutoScalingAutoScalingGroup', 'autoScalingGroup'],
  ['awslambda', 'AwsLambdaFunction', 'function'],
  ['backup', 'AwsBackupBackupVault', 'backup-vault'],
  ['cloudformation', 'AwsCloudFormationStack', 'stack'],
  ['cloudfront', 'AwsCloudFrontDistribution', 'distribution'],
  ['cloudtrail', 'AwsCloudTrailTrail', 'trail'],
  ['cloudwatch', 'AwsCloudWatchAlarm', 'alarm'],
  ['codebuild', 'AwsCodeBuildProject', 'project'],
  ['dynamodb', 'AwsDynamoDbTable', 'table'],
  ['ec2', 'AwsEc2Instance', 'instance'],
  ['ecr', 'AwsEcrRepository', 'repository'],
  ['ecs', 'AwsEcsTaskDefinition', 'task-definition'],
  ['efs', 'AwsEfsAccessPoint', 'file-system'],
  ['eks', 'AwsEksCluster', 'cluster'],
  ['elasticache', 'AwsElastiCacheCacheCluster', 'cluster'],
  ['elbv2', 'AwsElbv2LoadBalancer', 'loadbalancer'],
  ['guardduty', 'AwsGuardDutyDetector', 'detector'],
  ['iam', 'AwsIamRole', 'role'],
  ['kms', 'AwsKmsKey', 'key'],
  ['rds', 'AwsRdsDbInstance', 'db'],
  ['s3', 'AwsS3Bucket', 'bucket'],
  ['secretsmanager', 'AwsSecretsManagerSecret', 'secret'],
  ['sns', 'AwsSnsTopic', 'topic'],
  ['sqs', 'AwsSqsQueue', 'queue'],
  ['ssm', 'AwsSsmDocument', 'document'],
  ['wafv2', 'AwsWafv2WebAcl', 'webacl'],
];

const AZURE_SERVICES: Array<[string, string, string]> = [
  ['aisearch', 'Microsoft.Search/searchServices', 'Microsoft.Search/searchServices'],
  ['aks', 'Microsoft.ContainerService/ManagedClusters', 'Microsoft.ContainerService/managedClusters'],
  ['apim', 'Microsoft.ApiManagement/service', 'Microsoft.ApiManagement/service'],
  ['app', 'Microsoft.Web/sites', 'Microsoft.Web/sites'],
  ['appinsights', 'Microsoft.Insights/components', 'Microsoft.Insights/components'],
  ['containerregistry', 'Microsoft.ContainerRegistry/registries', 'Microsoft.ContainerRegistry/registries'],
  ['cosmosdb', 'Microsoft.DocumentDB/databaseAccounts', 'Microsoft.DocumentDB/databaseAccounts'],
  ['databricks', 'Microsoft.Databricks/workspaces', 'Microsoft.Databricks/workspaces'],
  ['defender', 'Microsoft.Security/pricings', 'Microsoft.Security/pricings'],
  ['entra', 'Microsoft.Entra/users', 'Microsoft.Entra/users'],
  ['eventhub', 'Microsoft.EventHub/namespaces', 'Microsoft.EventHub/namespaces'],
  ['functions', 'Microsoft.Web/sites/functions', 'Microsoft.Web/sites'],
  ['iam', 'Microsoft.Authorization/roleDefinitions', 'Microsoft.Authorization/roleDefinitions'],
  ['keyvault', 'Microsoft.KeyVault/vaults', 'Microsoft.KeyVault/vaults'],
  ['loadbalancer', 'Microsoft.Network/loadBalancers', 'Microsoft.Network/loadBalancers'],
  ['logic', 'Microsoft.Logic/workflows', 'Microsoft.Logic/workflows'],
  ['monitor', 'Microsoft.Insights/activityLogAlerts', 'Microsoft.Insights/activityLogAlerts'],
  ['mysql', 'Microsoft.DBforMySQL/flexibleServers', 'Microsoft.DBforMySQL/flexibleServers'],
  ['network', 'Microsoft.Network/networkSecurityGroups', 'Microsoft.Network/networkSecurityGroups'],
  ['policy', 'Microsoft.Authorization/policyAssignments', 'Microsoft.Authorization/policyAssignments'],
  ['postgresql', 'Microsoft.DBforPostgreSQL/flexibleServers', 'Microsoft.DBforPostgreSQL/flexibleServers'],
  ['recovery', 'Microsoft.RecoveryServices/vaults', 'Microsoft.RecoveryServices/vaults'],
  ['redis', 'Microsoft.Cache/Redis', 'Microsoft.Cache/Redis'],
  ['servicebus', 'Microsoft.ServiceBus/namespaces', 'Microsoft.ServiceBus/namespaces'],
  ['sqlserver', 'Microsoft.Sql/servers', 'Microsoft.Sql/servers'],
  ['storage', 'Microsoft.Storage/storageAccounts', 'Microsoft.Storage/storageAccounts'],
  ['synapse', 'Microsoft.Synapse/workspaces', 'Microsoft.Synapse/workspaces'],
  ['vm', 'Microsoft.Compute/virtualMachines', 'Microsoft.Compute/virtualMachines'],
  ['vmss', 'Microsoft.Compute/virtualMachineScaleSets', 'Microsoft.Compute/virtualMachineScaleSets'],
  ['vnet', 'Microsoft.Network/virtualNetworks', 'Microsoft.Network/virtualNetworks'],
];

const GCP_SERVICES: Array<[string, string, string]> = [
  ['apikeys', 'apikeys.googleapis.com/Key', 'keys'],
  ['artifacts', 'artifactregistry.googleapis.com/Repository', 'repositories'],
  ['bigquery', 'bigquery.googleapis.com/Dataset', 'datasets'],
  ['bigtable', 'bigtableadmin.googleapis.com/Instance', 'instances'],
  ['cloudbuild', 'cloudbuild.googleapis.com/Build', 'builds'],
  ['cloudfunctions', 'cloudfunctions.googleapis.com/CloudFunction', 'functions'],
  ['cloudrun', 'run.googleapis.com/Service', 'services'],
  ['cloudsql', 'sqladmin.googleapis.com/Instance', 'instances'],
  ['cloudstorage', 'storage.googleapis.com/Bucket', 'buckets'],
  ['composer', 'composer.googleapis.com/Environment', 'environments'],
  ['compute', 'compute.googleapis.com/Instance', 'instances'],
  ['dataflow', 'dataflow.googleapis.com/Job', 'jobs'],
  ['dataproc', 'dataproc.googleapis.com/Cluster', 'clusters'],
  ['dns', 'dns.googleapis.com/ManagedZone', 'managedZones'],
  ['filestore', 'file.googleapis.com/Instance', 'instances'],
  ['firestore', 'firestore.googleapis.com/Database', 'databases'],
  ['gcr', 'containerregistry.googleapis.com/Image', 'images'],
  ['gke', 'container.googleapis.com/Cluster', 'clusters'],
  ['iam', 'iam.googleapis.com/ServiceAccount', 'serviceAccounts'],
  ['kms', 'cloudkms.googleapis.com/CryptoKey', 'cryptoKeys'],
  ['logging', 'logging.googleapis.com/LogSink', 'sinks'],
  ['memorystore', 'redis.googleapis.com/Instance', 'instances'],
  ['monitoring', 'monitoring.googleapis.com/AlertPolicy', 'alertPolicies'],
  ['networking', 'compute.googleapis.com/Network', 'networks'],
  ['pubsub', 'pubsub.googleapis.com/Topic', 'topics'],
  ['secretmanager', 'secretmanager.googleapis.com/Secret', 'secrets'],
  ['serviceusage', 'serviceusage.googleapis.com/Service', 'services'],
  ['spanner', 'spanner.googleapis.com/Instance', 'instances'],
  ['vertexai', 'aiplatform.googleapis.com/Endpoint', 'endpoints'],
  ['vpcaccess', 'vpcaccess.googleapis.com/Connector', 'connectors'],
];

const toServices = (rows: Array<[string, string, string]>): ServiceProfile[] =>
  rows.map(([name, resourceType, kind]) => ({ name, resourceType, kind }));

const PROVIDER_CATALOGS: Record<GeneratedProviderType, ProviderCatalog> = {
  aws: {
    providerType: 'aws',
    services: toServices(AWS_SERVICES),
    regions: [
      'us-east-1', 'us-east-2', 'us-west-1', 'us-west-2', 'ca-central-1', 'eu-west-1', 'eu-west-2', 'eu-west-3',
      'eu-central-1', 'eu-north-1', 'ap-south-1', 'ap-southeast-1', 'ap-southeast-2', 'ap-northeast-1', 'sa-east-1',
    ],
    account: { type: 'AWS Account', typeId: 10 },
    partition: 'aws',
    frameworks: ['CIS-2.0', 'CIS-3.0', 'AWS-Foundational-Security-Best-Practices', 'ISO27001-2022', 'NIST-800-53-Revision-5', 'PCI-4.0', 'SOC2', 'ENS-RD2022', 'KISA-ISMS-P-2023', 'GDPR'],
    resourceUid: (service, region, accountUid, name) => `arn:aws:${service.name}:${region}:${accountUid}:${service.kind}/${name}`,
  },
  azure: {
    providerType: 'azure',
    services: toServices(AZURE_SERVICES),
    regions: [
      'eastus', 'eastus2', 'westus', 'westus2', 'centralus', 'northeurope', 'westeurope', 'uksouth',
      'francecentral', 'germanywestcentral', 'swedencentral', 'southeastasia', 'japaneast', 'australiaeast', 'brazilsouth',
    ],
    account: { type: 'Azure AD Account', typeId: 6 },
    frameworks: ['CIS-2.0', 'CIS-3.0', 'ISO27001-2022', 'NIST-800-53-Revision-5', 'PCI-4.0', 'SOC2', 'ENS-RD2022', 'MITRE-ATTACK'],
    resourceUid: (service, region, accountUid, name) =>
      `/subscriptions/${accountUid}/resourceGroups/rg-${region}/providers/${service.kind}/${name}`,
  },
  gcp: {
    providerType: 'gcp',
    services: toServices(GCP_SERVICES),
    regions: [
      'us-central1', 'us-east1', 'us-east4', 'us-west1', 'us-west2', 'northamerica-northeast1', 'europe-west1', 'europe-west2',
      'europe-west3', 'europe-west4', 'europe-north1', 'asia-east1', 'asia-northeast1', 'asia-south1', 'australia-southeast1',
    ],
    account: { type: 'GCP Account', typeId: 5 },
    frameworks: ['CIS-2.0', 'CIS-3.0', 'ISO27001-2022', 'NIST-800-53-Revision-5', 'PCI-4.0', 'SOC2', 'MITRE-ATTACK'],
    resourceUid: (service, region, accountUid, name) => `projects/${accountUid}/locations/${region}/${service.kind}/${name}`,
  },
};

/** The checks depend on the provider alone, as a Prowler release's do, not on the seed. */
const CATALOG_SEED = 2004;

function checksOf(catalog: ProviderCatalog): Map<string, CheckProfile[]> {
  const random = seededRandom(CATALOG_SEED);
  const checks = catalog.services.flatMap((service, serviceIndex) =>
    Array.from({ length: CHECKS_PER_SERVICE }, (_, n) => {
      // Steps of 5 over 12 subjects give each service 7 different ones, in a different mix per service.
      const [suffix, phrase] = CHECK_SUBJECTS[(serviceIndex + n * 5) % CHECK_SUBJECTS.length];
      return { id: `${service.name}_${suffix}`, service, phrase };
    }),
  );
  // Severities and manual checks go by rank in two shuffles of the checks, so every service gets a mix.
  const severityRanks = shuffled(random, checks.map((_, index) => index));
  const manualRanks = shuffled(random, severityRanks);
  const severityAt = (rank: number): GeneratedSeverity => {
    let bound = 0;
    for (const [severity, share] of SEVERITY_SHARES) {
      bound += share * checks.length;
      if (rank < bound) return severity;
    }
    return 'Informational';
  };
  const manualBelow = Math.round(MANUAL_CHECK_SHARE * checks.length);
  const profiles: CheckProfile[] = checks.map(({ id, service, phrase }, index) => ({
    id,
    service,
    title: `Ensure ${service.name} resources ${phrase}`,
    phrase,
    severity: severityAt(severityRanks[index]),
    manual: manualRanks[index] < manualBelow,
    compliance: complianceOf(random, catalog.frameworks),
  }));
  const byService = new Map<string, CheckProfile[]>();
  for (const profile of profiles) byService.set(profile.service.name, [...(byService.get(profile.service.name) ?? []), profile]);
  return byService;
}

function complianceOf(random: () => number, frameworks: string[]): Record<string, string[]> {
  const compliance: Record<string, string[]> = {};
  for (const framework of shuffled(random, frameworks).slice(0, 1 + Math.floor(random() * 4))) {
    const requirements = 1 + Math.floor(random() * 3);
    const ids = Array.from({ length: requirements }, () => `${1 + Math.floor(random() * 5)}.${1 + Math.floor(random() * 20)}`);
    compliance[framework] = [...new Set(ids)];
  }
  return compliance;
}

function generateResource(
  random: () => number,
  catalog: ProviderCatalog,
  service: ServiceProfile,
  accountUid: string,
  resourceNumber: number,
): GeneratedResource {
  const region = pick(random, catalog.regions);
  const name = `${pick(random, RESOURCE_WORDS)}-${service.name}-${resourceNumber}`;
  const labels = Object.entries(TAG_VALUES)
    .filter(() => random() < 0.6)
    .map(([key, values]) => `${key}:${pick(random, values)}`);
  return { uid: catalog.resourceUid(service, region, accountUid, name), name, region, service, labels };
}

function statusOf(random: () => number, check: CheckProfile): GeneratedStatus {
  if (check.manual) return 'MANUAL';
  return random() < FAIL_SHARE_OF_AUTOMATED ? 'FAIL' : 'PASS';
}

function statusDetailOf(status: GeneratedStatus, check: CheckProfile, resource: GeneratedResource): string {
  const outcome = { PASS: 'meets', FAIL: 'does not meet', MANUAL: 'must be reviewed by hand against' }[status];
  return `${check.service.name} resource ${resource.name} ${outcome} the requirement that its resources ${check.phrase}.`;
}

/** A Detection Finding with the fixture's fields in the fixture's order. */
function findingOf(
  check: CheckProfile,
  resource: GeneratedResource,
  catalog: ProviderCatalog,
  accountUid: string,
  scanTime: Date,
  status: GeneratedStatus,
): RawOcsfFinding {
  const detail = statusDetailOf(status, check, resource);
  const epochSeconds = Math.floor(scanTime.getTime() / 1000);
  // Prowler writes *_dt as local time without a zone; the generator's "local time" is UTC.
  const timeText = scanTime.toISOString().replace('Z', '');
  const docsUrl = `https://docs.prowler.com/checks/${catalog.providerType}/${check.service.name}/${check.id}`;
  return {
    message: detail,
    metadata: {
      event_code: check.id,
      product: { name: 'Prowler', uid: 'prowler', vendor_name: 'Prowler', version: PROWLER_VERSION },
      profiles: ['cloud', 'datetime'],
      tenant_uid: '',
      version: '1.4.0',
    },
    severity_id: OCSF_SEVERITY_ID[check.severity],
    severity: check.severity,
    status: 'New',
    status_code: status,
    status_detail: detail,
    status_id: 1,
    unmapped: {
      related_url: docsUrl,
      categories: [],
      depends_on: [],
      related_to: [],
      additional_urls: [],
      notes: '',
      compliance: check.compliance,
    },
    activity_name: 'Create',
    activity_id: 1,
    finding_info: {
      created_time: epochSeconds,
      created_time_dt: timeText,
      desc: `${check.title}.`,
      product_uid: 'prowler',
      title: check.title,
      types: [check.service.name.toUpperCase()],
      uid: `prowler-${catalog.providerType}-${check.id}-${accountUid}-${resource.region}-${resource.name}`,
    },
    resources: [
      {
        ...(catalog.partition ? { cloud_partition: catalog.partition } : {}),
        region: resource.region,
        data: { details: '', metadata: { name: resource.name, region: resource.region, tags: resource.labels } },
        group: { name: check.service.name },
        labels: resource.labels,
        name: resource.name,
        type: check.service.resourceType,
        uid: resource.uid,
      },
    ],
    category_name: 'Findings',
    category_uid: 2,
    class_name: 'Detection Finding',
    class_uid: 2004,
    cloud: {
      account: { name: '', type: catalog.account.type, type_id: catalog.account.typeId, uid: accountUid, labels: [] },
      org: { name: '', uid: '' },
      provider: catalog.providerType,
      region: resource.region,
    },
    remediation: {
      desc: `Change the configuration of ${check.service.name} so that its resources ${check.phrase}.`,
      references: [docsUrl],
    },
    risk_details: `Resources that fail "${check.title}" widen the attack surface of the ${check.service.name} service.`,
    time: epochSeconds,
    time_dt: timeText,
    type_uid: 200401,
    type_name: 'Detection Finding: Create',
  };
}

/** mulberry32: small, fast and good enough to spread synthetic data; never for secrets. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function pick<T>(random: () => number, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)];
}

function shuffled<T>(random: () => number, items: readonly T[]): T[] {
  const copy = [...items];
  for (let index = copy.length - 1; index > 0; index--) {
    const other = Math.floor(random() * (index + 1));
    [copy[index], copy[other]] = [copy[other], copy[index]];
  }
  return copy;
}
