import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isIP } from 'node:net';
import { isAbsolute, join, resolve } from 'node:path';
import { bool, cleanEnv, num, str, url } from 'envalid';
import { concurrencyVariable, QUEUE_NAMES, QueueName } from '../tasks/queue-names';
import { DEFAULT_ENCODING_HEAP_MB } from '../scans/execution/encoded-ocsf-batches';
import { INGESTION_BATCH_SIZE } from '../findings/ingestion/ingestion-record';
import { checksDirectory, complianceDirectory } from './compliance-directory';
import { OsUser, parseOsUser } from './os-user';
import { outboundUrlProblem } from '../integrations/outbound-target';

/**
 * Every setting the processes read, validated once at start. A bad value stops
 * the process with a message naming the variable, instead of failing later.
 */
export interface AppConfig {
  env: 'development' | 'test' | 'production';
  http: {
    host: string;
    port: number;
    bodyLimitBytes: number;
    corsOrigins: string[];
    hstsMaxAgeSeconds: number;
    /** Fastify's trustProxy: false, a hop count, or the proxies' addresses and CIDRs. Never true. */
    trustProxy: false | number | string[];
    swaggerEnabled: boolean;
    pageSizeDefault: number;
    pageSizeMax: number;
    /** How long an idle keep-alive connection stays open. */
    keepAliveTimeoutMs: number;
    /** A request (headers and body) must arrive within this; 0: no limit. */
    requestTimeoutMs: number;
    /** On SIGTERM, how long in-flight requests may finish before their connections are cut. */
    shutdownGraceMs: number;
  };
  database: {
    appUrl: string;
    /** The owner role; empty only in a worker that runs OWNER_FREE_QUEUES alone (ownerRoleProblem). */
    adminUrl: string;
    replicaUrl: string;
    adminReplicaUrl: string;
    /** DATABASE_REPLICA_URL names another server than DATABASE_URL: reads are routed (ReplicaRouter). */
    replicaConfigured: boolean;
    /** A replica further behind the primary than this is skipped: its reads go to the primary. */
    replicaMaxLagMs: number;
    poolSize: number;
    statementTimeoutMs: number;
  };
  /**
   * clusterNodes: the seed nodes of a Redis Cluster (REDIS_CLUSTER_NODES); empty for one server at `url`,
   * whose user and password a cluster's nodes also use.
   */
  redis: { url: string; prefix: string; clusterNodes: Array<{ host: string; port: number }> };
  jwt: {
    algorithm: 'HS256' | 'RS256';
    signingKey: string;
    verifyKey: string;
    issuer: string;
    audience: string;
    accessTtlSeconds: number;
    refreshTtlSeconds: number;
    usesDefaultSecret: boolean;
  };
  secretsEncryptionKey: string;
  usesDefaultEncryptionKey: boolean;
  throttle: ThrottleConfig;
  email: EmailConfig;
  workers: {
    inProcess: boolean;
    /** The queues a worker process takes jobs from (WORKER_QUEUES); every queue by default. */
    queues: readonly QueueName[];
  };
  /** GET /metrics: on its own port (0: none), and/or behind a bearer token (empty: none); off when both are unset. */
  metrics: { port: number; token: string };
  /** The queue dashboard at /admin/queues; off while empty. */
  adminDashboardToken: string;
  tasks: TasksConfig;
  reports: ReportsConfig;
  /**
   * Where Prowler's compliance framework definitions are read from
   * (PROWLER_COMPLIANCE_DIR, or the `compliance/` folder of PROWLER_BIN's
   * Python package); null: none, and compliance comes from the findings'
   * own mappings alone.
   */
  complianceDir: string | null;
  /**
   * Where Prowler's check definitions are read from (PROWLER_CHECKS_DIR, or
   * the `providers/` folder beside complianceDir); null: none, and checks
   * have no resource group.
   */
  checksDir: string | null;
  scans: ScansConfig;
  saml: SamlConfig;
  integrations: IntegrationsConfig;
  logLevel: string;
  debug: boolean;
}

/** Budgets of the public endpoints, counted in Redis and shared by every API process. */
export interface ThrottleConfig {
  /** Token requests per client address per window. */
  tokenPoints: number;
  /** Token requests per account (the email in the body) per window, whatever the address. */
  tokenAccountPoints: number;
  tokenWindowSeconds: number;
  /** Sign-ups per client address per window. */
  signUpPoints: number;
  signUpWindowSeconds: number;
}

/** Email ownership: verification at sign-up and on change, and the mail that carries the tokens. */
export interface EmailConfig {
  /** Sign-in waits for the sign-up address to be confirmed. */
  verificationRequired: boolean;
  verificationTtlSeconds: number;
  /** Empty: no mail server; mails are written to the log (refused in production while verification is required). */
  smtpUrl: string;
  from: string;
}

/** SAML sign-in: the address the IdP and browsers reach this API at, and where a finished sign-in sends the browser. */
export interface SamlConfig {
  /** No trailing slash; the service provider's entity id and assertion consumer URL are built on it. */
  apiBaseUrl: string;
  /** Empty: the assertion consumer answers the tokens itself. Set: it redirects there with `?id=` for `POST /tokens/saml`. */
  callbackUrl: string;
}

/** Integrations (S3, Security Hub, Jira, Slack): where they may connect and how long a target may take. */
export interface IntegrationsConfig {
  /**
   * Lets integration targets be loopback addresses over plain http
   * (INTEGRATIONS_ALLOW_LOCAL_TARGETS), for tests and local development
   * against servers on 127.0.0.1; refused in production.
   */
  allowLocalTargets: boolean;
  /** Each request to a target is cut off after this long. */
  requestTimeoutMs: number;
  /** Empty: AWS's own endpoints. Set: S3 calls go there (an S3-compatible store, a VPC endpoint), buckets addressed by path. */
  s3EndpointUrl: string;
  /** Empty: AWS's own regional endpoints. Set: Security Hub calls go there (a VPC endpoint, a test server). */
  securityHubEndpointUrl: string;
  /** Slack's Web API base, without a trailing slash. */
  slackApiUrl: string;
}

/** Background work: queues, job locks, retries, the outbox relay and the stale-task sweep. */
export interface TasksConfig {
  concurrency: Record<QueueName, number>;
  lockDurationMs: number;
  stalledIntervalMs: number;
  maxStalledCount: number;
  retryBaseDelayMs: number;
  retryMaxDelayMs: number;
  outboxPollIntervalMs: number;
  outboxBatchSize: number;
  outboxRetryMaxDelayMs: number;
  sweepIntervalMs: number;
  shutdownGraceMs: number;
  deletionBatchSize: number;
  /** A soft-deleted provider or tenant whose deletion task failed or was cancelled gets a new one once that task has been over this long. */
  deletionRetryAfterMs: number;
  /** After each deletion batch, a pause of this share (%) of the time the batch took: other tenants keep most of the machine. */
  deletionPausePercent: number;
  /** Empty: no connector can reach a cloud, so connection checks fail saying so. */
  connectionCheckUrl: string;
  /** Empty: no source of a resource's change events (CloudTrail) is reachable, so /resources/{id}/events answers 503. */
  resourceEventsUrl: string;
  /** Registers the test-only jobs (test-probe, test-noop); refused in production. */
  testJobs: boolean;
}

/** Scan reports: where the zips are kept (an absolute path) and for how many days. */
export interface ReportsConfig {
  dir: string;
  retentionDays: number;
}

/** Scan engines: OCSF imports and the Prowler CLI. */
export interface ScansConfig {
  /** The largest OCSF file an import accepts, as uploaded (compressed, for gzip). */
  importMaxBytes: number;
  /** The most an OCSF file (an import or Prowler's output) may hold once decompressed. */
  importMaxDecompressedBytes: number;
  /** The longest one OCSF record may be (its JSON text). */
  recordMaxBytes: number;
  /** The heap of the thread that parses and encodes OCSF files, in MB. */
  encodingThreadHeapMb: number;
  /** Records per batch, and so per transaction, of an OCSF file's ingestion. */
  ingestionBatchSize: number;
  /**
   * Where uploads wait for the worker that ingests them and where Prowler
   * writes its output: a directory the API and every worker share (a volume
   * mounted in both when they run on different hosts).
   */
  spoolDir: string;
  /** The Prowler CLI executable; empty: no scan engine, so manual and scheduled scans fail saying so. */
  prowlerBin: string;
  /** The OS user Prowler runs as (PROWLER_RUN_AS); null: the worker's own. */
  prowlerRunAs: OsUser | null;
}

const GIB = 1024 * 1024 * 1024;

/** Operator tokens (metrics, queue dashboard) are compared as given; a short one could be guessed. */
const MIN_TOKEN_LENGTH = 16;

const DEFAULT_CONCURRENCY: Record<QueueName, number> = {
  scans: 2,
  overview: 4,
  compliance: 2,
  integrations: 4,
  deletion: 2,
  backfill: 1,
  'scan-reports': 2,
};

/** Only for local development and tests; `npm run check:deploy` refuses them. */
export const DEVELOPMENT_JWT_SECRET = 'development-only-jwt-secret-change-me-0123456789';
export const DEVELOPMENT_ENCRYPTION_KEY = 'dev:' + Buffer.alloc(32, 7).toString('base64');

export function loadConfig(environment: NodeJS.ProcessEnv = process.env): AppConfig {
  const e = cleanEnv(environment, {
    NODE_ENV: str({ choices: ['development', 'test', 'production'], default: 'development' }),
    HOST: str({ default: '127.0.0.1' }),
    PORT: num({ default: 8080 }),
    BODY_LIMIT_BYTES: num({ default: 1024 * 1024 }),
    CORS_ORIGINS: str({ default: '' }),
    HSTS_MAX_AGE: num({ default: 31536000 }),
    TRUST_PROXY: str({ default: 'false' }),
    SWAGGER_ENABLED: bool({ default: true }),
    KEEP_ALIVE_TIMEOUT_MS: num({ default: 10000 }),
    REQUEST_TIMEOUT_MS: num({ default: 0 }),
    SHUTDOWN_GRACE_MS: num({ default: 15000 }),
    DATABASE_URL: url(),
    DATABASE_ADMIN_URL: str({ default: '' }),
    DATABASE_REPLICA_URL: str({ default: '' }),
    DATABASE_ADMIN_REPLICA_URL: str({ default: '' }),
    REPLICA_MAX_LAG_MS: num({ default: 5000 }),
    DATABASE_POOL_SIZE: num({ default: 10 }),
    DATABASE_STATEMENT_TIMEOUT_MS: num({ default: 30000 }),
    REDIS_URL: url({ default: 'redis://127.0.0.1:6379' }),
    REDIS_PREFIX: str({ default: 'cspm' }),
    REDIS_CLUSTER_NODES: str({ default: '' }),
    JWT_SECRET: str({ default: '' }),
    JWT_PRIVATE_KEY_FILE: str({ default: '' }),
    JWT_PUBLIC_KEY_FILE: str({ default: '' }),
    JWT_ISSUER: str({ default: 'cspm-api' }),
    JWT_AUDIENCE: str({ default: 'cspm-api' }),
    JWT_ACCESS_TTL_SECONDS: num({ default: 30 * 60 }),
    JWT_REFRESH_TTL_SECONDS: num({ default: 24 * 60 * 60 }),
    SECRETS_ENCRYPTION_KEY: str({ default: '' }),
    TOKEN_THROTTLE_POINTS: num({ default: 30 }),
    TOKEN_THROTTLE_WINDOW_SECONDS: num({ default: 60 }),
    TOKEN_THROTTLE_ACCOUNT_POINTS: num({ default: 10 }),
    SIGNUP_THROTTLE_POINTS: num({ default: 10 }),
    SIGNUP_THROTTLE_WINDOW_SECONDS: num({ default: 3600 }),
    // Empty: on when NODE_ENV=production, off otherwise.
    EMAIL_VERIFICATION_REQUIRED: str({ choices: ['', 'true', 'false'], default: '' }),
    EMAIL_VERIFICATION_TTL_SECONDS: num({ default: 24 * 60 * 60 }),
    SMTP_URL: str({ default: '' }),
    MAIL_FROM: str({ default: 'cspm-api <no-reply@localhost>' }),
    WORKERS_IN_PROCESS: bool({ default: false }),
    WORKER_QUEUES: str({ default: '' }),
    METRICS_PORT: num({ default: 0 }),
    METRICS_TOKEN: str({ default: '' }),
    ADMIN_DASHBOARD_TOKEN: str({ default: '' }),
    JOB_LOCK_DURATION_MS: num({ default: 30000 }),
    JOB_STALLED_INTERVAL_MS: num({ default: 30000 }),
    JOB_MAX_STALLED_COUNT: num({ default: 1 }),
    JOB_RETRY_BASE_DELAY_MS: num({ default: 2000 }),
    JOB_RETRY_MAX_DELAY_MS: num({ default: 10 * 60 * 1000 }),
    OUTBOX_POLL_INTERVAL_MS: num({ default: 1000 }),
    OUTBOX_BATCH_SIZE: num({ default: 500 }),
    OUTBOX_RETRY_MAX_DELAY_MS: num({ default: 10000 }),
    TASK_SWEEP_INTERVAL_MS: num({ default: 60000 }),
    WORKER_SHUTDOWN_GRACE_MS: num({ default: 25000 }),
    DELETION_BATCH_SIZE: num({ default: 1000 }),
    DELETION_RETRY_AFTER_MS: num({ default: 10 * 60 * 1000 }),
    DELETION_PAUSE_PERCENT: num({ default: 200 }),
    CONNECTION_CHECK_URL: str({ default: '' }),
    RESOURCE_EVENTS_URL: str({ default: '' }),
    TEST_JOBS: bool({ default: false }),
    REPORTS_DIR: str({ default: '.data/reports' }),
    REPORT_RETENTION_DAYS: num({ default: 30 }),
    SCAN_IMPORT_MAX_BYTES: num({ default: GIB }),
    SCAN_IMPORT_MAX_DECOMPRESSED_BYTES: num({ default: 16 * GIB }),
    SCAN_RECORD_MAX_BYTES: num({ default: 4 * 1024 * 1024 }),
    SCAN_ENCODING_THREAD_HEAP_MB: num({ default: DEFAULT_ENCODING_HEAP_MB }),
    SCAN_INGESTION_BATCH_SIZE: num({ default: INGESTION_BATCH_SIZE }),
    SCAN_SPOOL_DIR: str({ default: '' }),
    PROWLER_BIN: str({ default: '' }),
    PROWLER_RUN_AS: str({ default: '' }),
    PROWLER_COMPLIANCE_DIR: str({ default: '' }),
    PROWLER_CHECKS_DIR: str({ default: '' }),
    API_BASE_URL: str({ default: '' }),
    SAML_SSO_CALLBACK_URL: str({ default: '' }),
    INTEGRATIONS_ALLOW_LOCAL_TARGETS: bool({ default: false }),
    INTEGRATIONS_REQUEST_TIMEOUT_MS: num({ default: 30000 }),
    INTEGRATIONS_S3_ENDPOINT_URL: str({ default: '' }),
    INTEGRATIONS_SECURITY_HUB_ENDPOINT_URL: str({ default: '' }),
    INTEGRATIONS_SLACK_API_URL: str({ default: 'https://slack.com/api' }),
    LOG_LEVEL: str({ choices: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], default: 'info' }),
    DEBUG: bool({ default: false }),
  }, { reporter: throwOnInvalid });
  if (!Number.isInteger(e.PORT) || e.PORT < 0 || e.PORT > 65535) throw new Error('PORT must be an integer from 0 to 65535');

  const production = e.NODE_ENV === 'production';
  const jwt = resolveJwtKeys(e.JWT_SECRET, e.JWT_PRIVATE_KEY_FILE, e.JWT_PUBLIC_KEY_FILE, production);
  if (!e.SECRETS_ENCRYPTION_KEY && production) {
    throw new Error('SECRETS_ENCRYPTION_KEY is required when NODE_ENV=production');
  }
  if (e.BODY_LIMIT_BYTES < 1024) throw new Error('BODY_LIMIT_BYTES must be at least 1024');
  for (const [name, value, minimum] of [
    ['KEEP_ALIVE_TIMEOUT_MS', e.KEEP_ALIVE_TIMEOUT_MS, 1],
    ['REQUEST_TIMEOUT_MS', e.REQUEST_TIMEOUT_MS, 0],
    ['SHUTDOWN_GRACE_MS', e.SHUTDOWN_GRACE_MS, 0],
  ] as const) {
    if (!Number.isInteger(value) || value < minimum) throw new Error(`${name} must be an integer of at least ${minimum}`);
  }
  if (e.DATABASE_ADMIN_URL && !URL.canParse(e.DATABASE_ADMIN_URL)) throw new Error('DATABASE_ADMIN_URL must be a URL');
  for (const name of ['DATABASE_REPLICA_URL', 'DATABASE_ADMIN_REPLICA_URL'] as const) {
    if (e[name] && !URL.canParse(e[name])) throw new Error(`${name} must be a URL`);
  }
  if (!Number.isInteger(e.REPLICA_MAX_LAG_MS) || e.REPLICA_MAX_LAG_MS < 100) throw new Error('REPLICA_MAX_LAG_MS must be an integer of at least 100');
  if (!Number.isInteger(e.METRICS_PORT) || e.METRICS_PORT < 0 || e.METRICS_PORT > 65535) throw new Error('METRICS_PORT must be an integer from 0 to 65535');
  for (const name of ['METRICS_TOKEN', 'ADMIN_DASHBOARD_TOKEN'] as const) {
    if (e[name] && e[name].length < MIN_TOKEN_LENGTH) throw new Error(`${name} must be at least ${MIN_TOKEN_LENGTH} characters`);
  }
  const tasks = loadTasksConfig(e, environment, production);
  const throttle = loadThrottleConfig(e);
  const email = loadEmailConfig(e, production);
  const reports = loadReportsConfig(e.REPORTS_DIR, e.REPORT_RETENTION_DAYS);
  if (!Number.isInteger(e.SCAN_IMPORT_MAX_BYTES) || e.SCAN_IMPORT_MAX_BYTES < 1024) throw new Error('SCAN_IMPORT_MAX_BYTES must be an integer of at least 1024');
  for (const name of ['SCAN_IMPORT_MAX_DECOMPRESSED_BYTES', 'SCAN_RECORD_MAX_BYTES'] as const) {
    if (!Number.isSafeInteger(e[name]) || e[name] < 1024) throw new Error(`${name} must be an integer of at least 1024`);
  }
  // The thread holds a batch of records (up to 32 MiB of text) and what they parse into: well over one record's worth.
  if (!Number.isInteger(e.SCAN_ENCODING_THREAD_HEAP_MB) || e.SCAN_ENCODING_THREAD_HEAP_MB < 16) throw new Error('SCAN_ENCODING_THREAD_HEAP_MB must be an integer of at least 16');
  if (!Number.isInteger(e.SCAN_INGESTION_BATCH_SIZE) || e.SCAN_INGESTION_BATCH_SIZE < 1) throw new Error('SCAN_INGESTION_BATCH_SIZE must be a positive integer');
  // Empty: a directory under the system's temporary one, fine for a single host; set it where API and workers run apart.
  const spoolDir = e.SCAN_SPOOL_DIR || join(tmpdir(), 'cspm-scan-spool');
  if (!isAbsolute(spoolDir)) throw new Error('SCAN_SPOOL_DIR must be an absolute path');
  const complianceDir = complianceDirectory(e.PROWLER_COMPLIANCE_DIR, e.PROWLER_BIN);

  return {
    env: e.NODE_ENV,
    http: {
      host: e.HOST,
      port: e.PORT,
      bodyLimitBytes: e.BODY_LIMIT_BYTES,
      corsOrigins: e.CORS_ORIGINS.split(',').map((s) => s.trim()).filter(Boolean),
      hstsMaxAgeSeconds: e.HSTS_MAX_AGE,
      trustProxy: parseTrustProxy(e.TRUST_PROXY),
      swaggerEnabled: e.SWAGGER_ENABLED,
      pageSizeDefault: 10,
      pageSizeMax: 100,
      keepAliveTimeoutMs: e.KEEP_ALIVE_TIMEOUT_MS,
      requestTimeoutMs: e.REQUEST_TIMEOUT_MS,
      shutdownGraceMs: e.SHUTDOWN_GRACE_MS,
    },
    database: {
      appUrl: e.DATABASE_URL,
      adminUrl: e.DATABASE_ADMIN_URL,
      replicaUrl: e.DATABASE_REPLICA_URL || e.DATABASE_URL,
      adminReplicaUrl: e.DATABASE_ADMIN_URL ? e.DATABASE_ADMIN_REPLICA_URL || e.DATABASE_ADMIN_URL : '',
      replicaConfigured: e.DATABASE_REPLICA_URL !== '' && e.DATABASE_REPLICA_URL !== e.DATABASE_URL,
      replicaMaxLagMs: e.REPLICA_MAX_LAG_MS,
      poolSize: e.DATABASE_POOL_SIZE,
      statementTimeoutMs: e.DATABASE_STATEMENT_TIMEOUT_MS,
    },
    redis: { url: e.REDIS_URL, prefix: e.REDIS_PREFIX, clusterNodes: parseClusterNodes(e.REDIS_CLUSTER_NODES) },
    jwt: {
      ...jwt,
      issuer: e.JWT_ISSUER,
      audience: e.JWT_AUDIENCE,
      accessTtlSeconds: e.JWT_ACCESS_TTL_SECONDS,
      refreshTtlSeconds: e.JWT_REFRESH_TTL_SECONDS,
    },
    secretsEncryptionKey: e.SECRETS_ENCRYPTION_KEY || DEVELOPMENT_ENCRYPTION_KEY,
    usesDefaultEncryptionKey: !e.SECRETS_ENCRYPTION_KEY,
    throttle,
    email,
    workers: { inProcess: e.WORKERS_IN_PROCESS, queues: parseQueues(e.WORKER_QUEUES) },
    metrics: { port: e.METRICS_PORT, token: e.METRICS_TOKEN },
    adminDashboardToken: e.ADMIN_DASHBOARD_TOKEN,
    tasks,
    reports,
    complianceDir,
    checksDir: checksDirectory(e.PROWLER_CHECKS_DIR, complianceDir),
    scans: {
      importMaxBytes: e.SCAN_IMPORT_MAX_BYTES,
      importMaxDecompressedBytes: e.SCAN_IMPORT_MAX_DECOMPRESSED_BYTES,
      recordMaxBytes: e.SCAN_RECORD_MAX_BYTES,
      encodingThreadHeapMb: e.SCAN_ENCODING_THREAD_HEAP_MB,
      ingestionBatchSize: e.SCAN_INGESTION_BATCH_SIZE,
      spoolDir,
      prowlerBin: e.PROWLER_BIN,
      prowlerRunAs: e.PROWLER_RUN_AS ? parseOsUser(e.PROWLER_RUN_AS, 'PROWLER_RUN_AS') : null,
    },
    saml: loadSamlConfig(e.API_BASE_URL, e.SAML_SSO_CALLBACK_URL, e.HOST, e.PORT),
    integrations: loadIntegrationsConfig(e, production),
    logLevel: e.LOG_LEVEL,
    debug: e.DEBUG,
  };
}

/**
 * The queues whose jobs never use the owner role: a worker running only
 * these may go without DATABASE_ADMIN_URL. That is the worker that runs
 * Prowler, which must not hold it (README, "What a worker process holds").
 */
export const OWNER_FREE_QUEUES: readonly QueueName[] = ['scans'];

/** Why a process with this configuration may not start, or undefined: the API and most workers need the owner role. */
export function ownerRoleProblem(config: AppConfig, process: 'api' | 'worker'): string | undefined {
  if (config.database.adminUrl) return undefined;
  if (process === 'api' || config.workers.inProcess) return 'DATABASE_ADMIN_URL is required by the API process';
  const needing = config.workers.queues.filter((queue) => !OWNER_FREE_QUEUES.includes(queue));
  return needing.length === 0
    ? undefined
    : `DATABASE_ADMIN_URL is required by a worker of the ${needing.join(', ')} queue(s); only a worker with WORKER_QUEUES=${OWNER_FREE_QUEUES.join(',')} runs without it`;
}

function parseQueues(list: string): readonly QueueName[] {
  if (list.trim() === '') return QUEUE_NAMES;
  const names = list.split(',').map((name) => name.trim()).filter(Boolean);
  const unknown = names.filter((name) => !(QUEUE_NAMES as readonly string[]).includes(name));
  if (unknown.length > 0 || names.length === 0) throw new Error(`WORKER_QUEUES must list queues among: ${QUEUE_NAMES.join(', ')}`);
  return [...new Set(names)] as QueueName[];
}

function loadSamlConfig(apiBaseUrl: string, callbackUrl: string, host: string, port: number): SamlConfig {
  for (const [name, value] of [['API_BASE_URL', apiBaseUrl], ['SAML_SSO_CALLBACK_URL', callbackUrl]]) {
    if (value && !/^https?:\/\/[^/\s]+/.test(value)) throw new Error(`${name} must be an http(s) URL`);
  }
  return { apiBaseUrl: (apiBaseUrl || `http://${host}:${port}`).replace(/\/+$/, ''), callbackUrl };
}

function loadIntegrationsConfig(e: Record<string, unknown>, production: boolean): IntegrationsConfig {
  const allowLocalTargets = e.INTEGRATIONS_ALLOW_LOCAL_TARGETS as boolean;
  if (allowLocalTargets && production) throw new Error('INTEGRATIONS_ALLOW_LOCAL_TARGETS must not be set when NODE_ENV=production');
  const requestTimeoutMs = e.INTEGRATIONS_REQUEST_TIMEOUT_MS as number;
  if (!Number.isInteger(requestTimeoutMs) || requestTimeoutMs < 100 || requestTimeoutMs > 600000) {
    throw new Error('INTEGRATIONS_REQUEST_TIMEOUT_MS must be an integer from 100 to 600000');
  }
  const urls = {
    INTEGRATIONS_S3_ENDPOINT_URL: e.INTEGRATIONS_S3_ENDPOINT_URL as string,
    INTEGRATIONS_SECURITY_HUB_ENDPOINT_URL: e.INTEGRATIONS_SECURITY_HUB_ENDPOINT_URL as string,
    INTEGRATIONS_SLACK_API_URL: e.INTEGRATIONS_SLACK_API_URL as string,
  };
  for (const [name, value] of Object.entries(urls)) {
    const problem = value ? outboundUrlProblem(value, allowLocalTargets) : undefined;
    if (problem) throw new Error(`${name} ${problem}`);
  }
  return {
    allowLocalTargets,
    requestTimeoutMs,
    s3EndpointUrl: urls.INTEGRATIONS_S3_ENDPOINT_URL.replace(/\/+$/, ''),
    securityHubEndpointUrl: urls.INTEGRATIONS_SECURITY_HUB_ENDPOINT_URL.replace(/\/+$/, ''),
    slackApiUrl: urls.INTEGRATIONS_SLACK_API_URL.replace(/\/+$/, ''),
  };
}

function loadTasksConfig(
  e: Record<string, unknown>,
  environment: NodeJS.ProcessEnv,
  production: boolean,
): TasksConfig {
  const positive = (name: string, minimum = 1): number => {
    const value = e[name] as number;
    if (!Number.isInteger(value) || value < minimum) throw new Error(`${name} must be an integer of at least ${minimum}`);
    return value;
  };
  const concurrency = {} as Record<QueueName, number>;
  for (const queue of QUEUE_NAMES) {
    const name = concurrencyVariable(queue);
    const raw = environment[name];
    const value = raw === undefined || raw === '' ? DEFAULT_CONCURRENCY[queue] : Number(raw);
    if (!Number.isInteger(value) || value < 1 || value > 1000) throw new Error(`${name} must be an integer from 1 to 1000`);
    concurrency[queue] = value;
  }
  const connectionCheckUrl = e.CONNECTION_CHECK_URL as string;
  if (connectionCheckUrl && !/^https?:\/\//.test(connectionCheckUrl)) throw new Error('CONNECTION_CHECK_URL must be an http(s) URL');
  const resourceEventsUrl = e.RESOURCE_EVENTS_URL as string;
  if (resourceEventsUrl && !/^https?:\/\//.test(resourceEventsUrl)) throw new Error('RESOURCE_EVENTS_URL must be an http(s) URL');
  if (e.TEST_JOBS && production) throw new Error('TEST_JOBS must not be set when NODE_ENV=production');
  const lockDurationMs = positive('JOB_LOCK_DURATION_MS', 100);
  return {
    concurrency,
    lockDurationMs,
    stalledIntervalMs: positive('JOB_STALLED_INTERVAL_MS', 100),
    maxStalledCount: positive('JOB_MAX_STALLED_COUNT', 0),
    retryBaseDelayMs: positive('JOB_RETRY_BASE_DELAY_MS', 1),
    retryMaxDelayMs: positive('JOB_RETRY_MAX_DELAY_MS', 1),
    outboxPollIntervalMs: positive('OUTBOX_POLL_INTERVAL_MS', 10),
    outboxBatchSize: positive('OUTBOX_BATCH_SIZE'),
    outboxRetryMaxDelayMs: positive('OUTBOX_RETRY_MAX_DELAY_MS', 10),
    sweepIntervalMs: positive('TASK_SWEEP_INTERVAL_MS', 100),
    shutdownGraceMs: positive('WORKER_SHUTDOWN_GRACE_MS', 0),
    deletionBatchSize: positive('DELETION_BATCH_SIZE'),
    deletionRetryAfterMs: positive('DELETION_RETRY_AFTER_MS', 1000),
    deletionPausePercent: positive('DELETION_PAUSE_PERCENT', 0),
    connectionCheckUrl,
    resourceEventsUrl,
    testJobs: e.TEST_JOBS as boolean,
  };
}

/**
 * `false`, a hop count (the number of proxies in front of the API), or a
 * comma-separated list of the proxies' addresses and CIDRs. `true` would
 * trust every X-Forwarded-For hop, so any client could pick its own address
 * and escape the per-address throttles: refused.
 */
/** `host:port` entries (or `redis://host:port`), comma-separated. */
export function parseClusterNodes(raw: string): Array<{ host: string; port: number }> {
  return raw
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean)
    .map((entry) => {
      const match = /^(?:rediss?:\/\/)?(\[[0-9a-f:]+\]|[A-Za-z0-9.-]+):(\d{1,5})\/?$/i.exec(entry);
      const port = Number(match?.[2]);
      if (!match || port < 1 || port > 65535) throw new Error(`REDIS_CLUSTER_NODES: '${entry}' is not host:port`);
      return { host: match[1].replace(/^\[|\]$/g, ''), port };
    });
}

export function parseTrustProxy(raw: string): false | number | string[] {
  const value = raw.trim();
  if (value === '' || value === 'false' || value === '0') return false;
  if (value === 'true') {
    throw new Error('TRUST_PROXY=true would trust every X-Forwarded-For hop, so clients could choose their own address; give the number of proxies (e.g. 1) or their addresses/CIDRs');
  }
  if (/^\d+$/.test(value)) {
    const hops = Number(value);
    if (hops > 10) throw new Error('TRUST_PROXY must be a hop count from 0 to 10, or a list of proxy addresses/CIDRs');
    return hops;
  }
  const entries = value.split(',').map((entry) => entry.trim()).filter(Boolean);
  for (const entry of entries) {
    const [address, prefix, extra] = entry.split('/');
    const family = isIP(address);
    const maxPrefix = family === 6 ? 128 : 32;
    if (family === 0 || extra !== undefined || (prefix !== undefined && (!/^\d+$/.test(prefix) || Number(prefix) > maxPrefix))) {
      throw new Error(`TRUST_PROXY: '${entry}' is neither a hop count nor an IP address or CIDR`);
    }
  }
  return entries;
}

function loadThrottleConfig(e: Record<string, unknown>): ThrottleConfig {
  const positive = (name: string): number => {
    const value = e[name] as number;
    if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be an integer of at least 1`);
    return value;
  };
  return {
    tokenPoints: positive('TOKEN_THROTTLE_POINTS'),
    tokenAccountPoints: positive('TOKEN_THROTTLE_ACCOUNT_POINTS'),
    tokenWindowSeconds: positive('TOKEN_THROTTLE_WINDOW_SECONDS'),
    signUpPoints: positive('SIGNUP_THROTTLE_POINTS'),
    signUpWindowSeconds: positive('SIGNUP_THROTTLE_WINDOW_SECONDS'),
  };
}

function loadEmailConfig(e: Record<string, unknown>, production: boolean): EmailConfig {
  const required = e.EMAIL_VERIFICATION_REQUIRED as string;
  const ttl = e.EMAIL_VERIFICATION_TTL_SECONDS as number;
  if (!Number.isInteger(ttl) || ttl < 300 || ttl > 7 * 86400) throw new Error('EMAIL_VERIFICATION_TTL_SECONDS must be an integer from 300 to 604800');
  const smtpUrl = (e.SMTP_URL as string).trim();
  if (smtpUrl && !/^smtps?:\/\/[^/]/.test(smtpUrl)) throw new Error('SMTP_URL must be an smtp:// or smtps:// URL');
  return {
    verificationRequired: required === '' ? production : required === 'true',
    verificationTtlSeconds: ttl,
    smtpUrl,
    from: e.MAIL_FROM as string,
  };
}

function loadReportsConfig(dir: string, retentionDays: number): ReportsConfig {
  if (dir.trim() === '') throw new Error('REPORTS_DIR must not be empty');
  if (!Number.isInteger(retentionDays) || retentionDays < 1 || retentionDays > 3650) {
    throw new Error('REPORT_RETENTION_DAYS must be an integer from 1 to 3650');
  }
  // Resolved once, so the API and worker processes started from the same directory agree on it.
  return { dir: resolve(dir), retentionDays };
}

function resolveJwtKeys(
  secret: string,
  privateKeyFile: string,
  publicKeyFile: string,
  production: boolean,
): Pick<AppConfig['jwt'], 'algorithm' | 'signingKey' | 'verifyKey' | 'usesDefaultSecret'> {
  if (privateKeyFile || publicKeyFile) {
    if (!privateKeyFile || !publicKeyFile) {
      throw new Error('JWT_PRIVATE_KEY_FILE and JWT_PUBLIC_KEY_FILE must be set together');
    }
    return {
      algorithm: 'RS256',
      signingKey: readFileSync(privateKeyFile, 'utf8'),
      verifyKey: readFileSync(publicKeyFile, 'utf8'),
      usesDefaultSecret: false,
    };
  }
  if (!secret) {
    if (production) throw new Error('JWT_SECRET (or JWT_PRIVATE_KEY_FILE and JWT_PUBLIC_KEY_FILE) is required when NODE_ENV=production');
    return { algorithm: 'HS256', signingKey: DEVELOPMENT_JWT_SECRET, verifyKey: DEVELOPMENT_JWT_SECRET, usesDefaultSecret: true };
  }
  if (secret.length < 32) throw new Error('JWT_SECRET must be at least 32 characters');
  return { algorithm: 'HS256', signingKey: secret, verifyKey: secret, usesDefaultSecret: secret === DEVELOPMENT_JWT_SECRET };
}

/** Collects every invalid variable into one error instead of exiting the process, so callers and tests see it. */
function throwOnInvalid({ errors }: { errors: Partial<Record<string, Error>> }): void {
  const problems = Object.entries(errors).map(([name, error]) => `${name}: ${error?.message ?? 'invalid'}`);
  if (problems.length > 0) throw new Error(`Invalid configuration:\n  ${problems.join('\n  ')}`);
}
