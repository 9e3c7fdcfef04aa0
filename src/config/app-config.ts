import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { bool, cleanEnv, num, str, url } from 'envalid';
import { concurrencyVariable, QUEUE_NAMES, QueueName } from '../tasks/queue-names';

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
    trustProxy: boolean;
    swaggerEnabled: boolean;
    pageSizeDefault: number;
    pageSizeMax: number;
  };
  database: {
    appUrl: string;
    adminUrl: string;
    replicaUrl: string;
    adminReplicaUrl: string;
    poolSize: number;
    statementTimeoutMs: number;
  };
  redis: { url: string; prefix: string };
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
  throttle: { tokenPoints: number; tokenWindowSeconds: number };
  workers: { inProcess: boolean };
  tasks: TasksConfig;
  reports: ReportsConfig;
  scans: ScansConfig;
  saml: SamlConfig;
  logLevel: string;
  debug: boolean;
}

/** SAML sign-in: the address the IdP and browsers reach this API at, and where a finished sign-in sends the browser. */
export interface SamlConfig {
  /** No trailing slash; the service provider's entity id and assertion consumer URL are built on it. */
  apiBaseUrl: string;
  /** Empty: the assertion consumer answers the tokens itself. Set: it redirects there with `?id=` for `POST /tokens/saml`. */
  callbackUrl: string;
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
  /**
   * Where uploads wait for the worker that ingests them and where Prowler
   * writes its output: a directory the API and every worker share (a volume
   * mounted in both when they run on different hosts).
   */
  spoolDir: string;
  /** The Prowler CLI executable; empty: no scan engine, so manual and scheduled scans fail saying so. */
  prowlerBin: string;
}

const GIB = 1024 * 1024 * 1024;

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
    TRUST_PROXY: bool({ default: false }),
    SWAGGER_ENABLED: bool({ default: true }),
    DATABASE_URL: url(),
    DATABASE_ADMIN_URL: url(),
    DATABASE_REPLICA_URL: str({ default: '' }),
    DATABASE_ADMIN_REPLICA_URL: str({ default: '' }),
    DATABASE_POOL_SIZE: num({ default: 10 }),
    DATABASE_STATEMENT_TIMEOUT_MS: num({ default: 30000 }),
    REDIS_URL: url({ default: 'redis://127.0.0.1:6379' }),
    REDIS_PREFIX: str({ default: 'cspm' }),
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
    WORKERS_IN_PROCESS: bool({ default: false }),
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
    TEST_JOBS: bool({ default: false }),
    REPORTS_DIR: str({ default: '.data/reports' }),
    REPORT_RETENTION_DAYS: num({ default: 30 }),
    SCAN_IMPORT_MAX_BYTES: num({ default: GIB }),
    SCAN_SPOOL_DIR: str({ default: '' }),
    PROWLER_BIN: str({ default: '' }),
    API_BASE_URL: str({ default: '' }),
    SAML_SSO_CALLBACK_URL: str({ default: '' }),
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
  const tasks = loadTasksConfig(e, environment, production);
  const reports = loadReportsConfig(e.REPORTS_DIR, e.REPORT_RETENTION_DAYS);
  if (!Number.isInteger(e.SCAN_IMPORT_MAX_BYTES) || e.SCAN_IMPORT_MAX_BYTES < 1024) throw new Error('SCAN_IMPORT_MAX_BYTES must be an integer of at least 1024');
  // Empty: a directory under the system's temporary one, fine for a single host; set it where API and workers run apart.
  const spoolDir = e.SCAN_SPOOL_DIR || join(tmpdir(), 'cspm-scan-spool');
  if (!isAbsolute(spoolDir)) throw new Error('SCAN_SPOOL_DIR must be an absolute path');

  return {
    env: e.NODE_ENV,
    http: {
      host: e.HOST,
      port: e.PORT,
      bodyLimitBytes: e.BODY_LIMIT_BYTES,
      corsOrigins: e.CORS_ORIGINS.split(',').map((s) => s.trim()).filter(Boolean),
      hstsMaxAgeSeconds: e.HSTS_MAX_AGE,
      trustProxy: e.TRUST_PROXY,
      swaggerEnabled: e.SWAGGER_ENABLED,
      pageSizeDefault: 10,
      pageSizeMax: 100,
    },
    database: {
      appUrl: e.DATABASE_URL,
      adminUrl: e.DATABASE_ADMIN_URL,
      replicaUrl: e.DATABASE_REPLICA_URL || e.DATABASE_URL,
      adminReplicaUrl: e.DATABASE_ADMIN_REPLICA_URL || e.DATABASE_ADMIN_URL,
      poolSize: e.DATABASE_POOL_SIZE,
      statementTimeoutMs: e.DATABASE_STATEMENT_TIMEOUT_MS,
    },
    redis: { url: e.REDIS_URL, prefix: e.REDIS_PREFIX },
    jwt: {
      ...jwt,
      issuer: e.JWT_ISSUER,
      audience: e.JWT_AUDIENCE,
      accessTtlSeconds: e.JWT_ACCESS_TTL_SECONDS,
      refreshTtlSeconds: e.JWT_REFRESH_TTL_SECONDS,
    },
    secretsEncryptionKey: e.SECRETS_ENCRYPTION_KEY || DEVELOPMENT_ENCRYPTION_KEY,
    usesDefaultEncryptionKey: !e.SECRETS_ENCRYPTION_KEY,
    throttle: { tokenPoints: e.TOKEN_THROTTLE_POINTS, tokenWindowSeconds: e.TOKEN_THROTTLE_WINDOW_SECONDS },
    workers: { inProcess: e.WORKERS_IN_PROCESS },
    tasks,
    reports,
    scans: { importMaxBytes: e.SCAN_IMPORT_MAX_BYTES, spoolDir, prowlerBin: e.PROWLER_BIN },
    saml: loadSamlConfig(e.API_BASE_URL, e.SAML_SSO_CALLBACK_URL, e.HOST, e.PORT),
    logLevel: e.LOG_LEVEL,
    debug: e.DEBUG,
  };
}

function loadSamlConfig(apiBaseUrl: string, callbackUrl: string, host: string, port: number): SamlConfig {
  for (const [name, value] of [['API_BASE_URL', apiBaseUrl], ['SAML_SSO_CALLBACK_URL', callbackUrl]]) {
    if (value && !/^https?:\/\/[^/\s]+/.test(value)) throw new Error(`${name} must be an http(s) URL`);
  }
  return { apiBaseUrl: (apiBaseUrl || `http://${host}:${port}`).replace(/\/+$/, ''), callbackUrl };
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
    testJobs: e.TEST_JOBS as boolean,
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
