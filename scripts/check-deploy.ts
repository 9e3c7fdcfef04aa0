import { AppConfig, DEVELOPMENT_JWT_SECRET, loadConfig, OWNER_FREE_QUEUES, ownerRoleProblem } from '../src/config/app-config';

/**
 * `npm run check:deploy`: refuses an unsafe production configuration and
 * names every problem at once. Meant for a deploy pipeline, before start.
 */
export function deploymentProblems(environment: NodeJS.ProcessEnv): string[] {
  const problems: string[] = [];
  let config: AppConfig;
  try {
    config = loadConfig(environment);
  } catch (error) {
    return [(error as Error).message];
  }
  if (config.env !== 'production') problems.push('NODE_ENV must be production');
  if (config.jwt.usesDefaultSecret) problems.push('JWT_SECRET is the development default; set a random secret of 32+ characters or key files');
  if (config.jwt.algorithm === 'HS256' && config.jwt.signingKey.length < 32) problems.push('JWT_SECRET is shorter than 32 characters');
  if (environment.JWT_SECRET === DEVELOPMENT_JWT_SECRET) problems.push('JWT_SECRET equals the published development secret');
  if (config.usesDefaultEncryptionKey) problems.push('SECRETS_ENCRYPTION_KEY is not set; provider secrets would use the development key');
  if (isPlaceholder(environment.JWT_SECRET ?? '')) problems.push('JWT_SECRET is a placeholder (it says change-me)');
  if (keyringTexts(environment.SECRETS_ENCRYPTION_KEY ?? '').some(isPlaceholder)) problems.push('SECRETS_ENCRYPTION_KEY holds a placeholder key (it says change-me)');
  if (config.debug) problems.push('DEBUG is on');
  if (['debug', 'trace'].includes(config.logLevel)) problems.push(`LOG_LEVEL=${config.logLevel} is too verbose for production`);
  if (config.http.corsOrigins.includes('*')) problems.push('CORS_ORIGINS allows every origin (*)');
  for (const origin of config.http.corsOrigins) {
    if (origin.startsWith('http://') && !/^http:\/\/(localhost|127\.0\.0\.1)/.test(origin)) problems.push(`CORS origin ${origin} is not https`);
  }
  if (config.http.hstsMaxAgeSeconds < 15552000) problems.push('HSTS_MAX_AGE is below 180 days (15552000 seconds)');
  if (config.jwt.accessTtlSeconds > 3600) problems.push('JWT_ACCESS_TTL_SECONDS is over one hour');
  if (config.jwt.refreshTtlSeconds > 7 * 86400) problems.push('JWT_REFRESH_TTL_SECONDS is over seven days');
  if (config.http.bodyLimitBytes > 10 * 1024 * 1024) problems.push('BODY_LIMIT_BYTES is over 10 MB');
  if (config.throttle.tokenPoints > 100) problems.push('TOKEN_THROTTLE_POINTS allows over 100 token requests per window');
  if (config.throttle.tokenAccountPoints > 30) problems.push('TOKEN_THROTTLE_ACCOUNT_POINTS allows over 30 password guesses per account per window');
  if (config.throttle.signUpPoints > 100) problems.push('SIGNUP_THROTTLE_POINTS allows over 100 sign-ups per address per window');
  if (!config.email.verificationRequired) problems.push('EMAIL_VERIFICATION_REQUIRED is off: anyone could sign up with, and be invited as, an address they do not own');
  if (!config.email.smtpUrl) problems.push('SMTP_URL is not set: verification mails (sign-up, email changes) would only be logged');
  else if (isPlaceholder(config.email.smtpUrl)) problems.push('SMTP_URL is a placeholder (it says change-me)');
  if (config.http.keepAliveTimeoutMs > config.http.shutdownGraceMs) {
    problems.push('KEEP_ALIVE_TIMEOUT_MS is longer than SHUTDOWN_GRACE_MS: a client may reuse a connection the draining server is about to cut');
  }
  if (config.metrics.port > 0 && !config.metrics.token) problems.push('METRICS_PORT serves /metrics without METRICS_TOKEN: anyone who reaches the port reads queue, tenant-wide and process figures');
  if (config.http.trustProxy === false && config.saml.apiBaseUrl.startsWith('https://')) {
    // This server speaks plain HTTP only, so an https public address declares a TLS-terminating proxy in front of it.
    problems.push(`API_BASE_URL is https (${config.saml.apiBaseUrl}), so a proxy terminates TLS in front of this plain-HTTP server, but TRUST_PROXY is off: every client would share the proxy's address in throttles and logs; set TRUST_PROXY to the proxy hop count or its addresses`);
  }
  if (config.workers.inProcess) problems.push('WORKERS_IN_PROCESS=true: run workers as their own deployment (npm run start:worker)');
  const owned = config.database.adminUrl !== '';
  for (const [name, url] of Object.entries({
    DATABASE_URL: config.database.appUrl,
    ...(owned ? { DATABASE_ADMIN_URL: config.database.adminUrl } : {}),
    DATABASE_REPLICA_URL: config.database.replicaUrl,
  })) {
    const parsed = new URL(url);
    if (!parsed.password) problems.push(`${name} has no password`);
    if (isPlaceholder(decodeURIComponent(parsed.password))) problems.push(`${name} has a placeholder password (change-me)`);
    if (name !== 'DATABASE_ADMIN_URL' && decodeURIComponent(parsed.username) === 'postgres') problems.push(`${name} uses the postgres superuser; use the app role`);
  }
  if (owned && new URL(config.database.appUrl).username === new URL(config.database.adminUrl).username) {
    problems.push('DATABASE_URL and DATABASE_ADMIN_URL use the same role: the app role must not own tables or bypass RLS');
  }
  const ownerMissing = ownerRoleProblem(config, 'worker');
  if (ownerMissing) problems.push(ownerMissing);
  problems.push(...prowlerProblems(config));
  return problems;
}

/**
 * Prowler runs whatever a tenant's credentials make it run (their cloud SDKs
 * read files and start programs): the process that starts it must not hold
 * the owner role, and Prowler must run as another OS user, which cannot read
 * that process's environment (the encryption key, the JWT secret).
 */
function prowlerProblems(config: AppConfig): string[] {
  if (!config.scans.prowlerBin) return [];
  const problems: string[] = [];
  if (config.database.adminUrl) {
    problems.push(`PROWLER_BIN is set in a process that holds DATABASE_ADMIN_URL: run Prowler in a worker of its own (WORKER_QUEUES=${OWNER_FREE_QUEUES.join(',')}) without it`);
  }
  if (!config.scans.prowlerRunAs) problems.push('PROWLER_BIN is set without PROWLER_RUN_AS: Prowler would run as the worker’s own user and could read its environment');
  return problems;
}

/** The values shipped in docker-compose.yml and .env.example say change-me, so a copy left as it is cannot pass. */
function isPlaceholder(value: string): boolean {
  return /change-?me/i.test(value);
}

/** Each key of a `kid:key,…` keyring as text, whether it was written in hex or base64. */
function keyringTexts(keyring: string): string[] {
  return keyring
    .split(',')
    .map((entry) => entry.slice(entry.indexOf(':') + 1).trim())
    .flatMap((key) => [key, Buffer.from(key, /^[0-9a-f]{64}$/i.test(key) ? 'hex' : 'base64').toString('latin1')]);
}

if (require.main === module) {
  const problems = deploymentProblems(process.env);
  if (problems.length > 0) {
    process.stderr.write(`check:deploy found ${problems.length} problem(s):\n${problems.map((p) => `  - ${p}`).join('\n')}\n`);
    process.exit(1);
  }
  process.stdout.write('check:deploy: configuration is fit for production\n');
}
