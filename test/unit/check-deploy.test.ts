import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { deploymentProblems } from '../../scripts/check-deploy';

/** The environment docker-compose.yml gives the api and worker services (its x-app-environment block). */
function composeEnvironment(): Record<string, string> {
  const compose = readFileSync(resolve(__dirname, '..', '..', '..', 'docker-compose.yml'), 'utf8');
  const block = compose.slice(compose.indexOf('x-app-environment:'), compose.indexOf('\nservices:'));
  return Object.fromEntries([...block.matchAll(/^ {2}([A-Z_]+): "?([^"\n]*)"?$/gm)].map((match) => [match[1], match[2]]));
}

const SAFE = {
  NODE_ENV: 'production',
  DATABASE_URL: 'postgres://cspm_api:app-pass@db.internal:5432/cspm',
  DATABASE_ADMIN_URL: 'postgres://cspm_owner:owner-pass@db.internal:5432/cspm',
  REDIS_URL: 'redis://redis.internal:6379',
  JWT_SECRET: 'x'.repeat(24) + 'production-secret-material',
  SECRETS_ENCRYPTION_KEY: 'k1:' + Buffer.alloc(32, 3).toString('base64'),
  CORS_ORIGINS: 'https://app.example.com',
  SMTP_URL: 'smtps://mailer:mail-pass@mail.example.com',
};

describe('check:deploy', () => {
  it('accepts a safe production configuration', () => {
    assert.deepEqual(deploymentProblems(SAFE), []);
  });

  it('names every problem of an unsafe one', () => {
    const problems = deploymentProblems({
      ...SAFE,
      DEBUG: 'true',
      CORS_ORIGINS: '*',
      HSTS_MAX_AGE: '0',
      LOG_LEVEL: 'debug',
      WORKERS_IN_PROCESS: 'true',
      DATABASE_URL: 'postgres://postgres@db.internal:5432/cspm',
    });
    for (const expected of [/DEBUG/, /CORS_ORIGINS/, /HSTS/, /LOG_LEVEL/, /WORKERS_IN_PROCESS/, /DATABASE_URL has no password/, /superuser/]) {
      assert.ok(problems.some((p) => expected.test(p)), `missing ${expected}: ${problems.join('; ')}`);
    }
  });

  it('refuses a keep-alive timeout longer than the shutdown grace', () => {
    const problems = deploymentProblems({ ...SAFE, KEEP_ALIVE_TIMEOUT_MS: '72000', SHUTDOWN_GRACE_MS: '30000' });
    assert.deepEqual(problems.filter((p) => /KEEP_ALIVE_TIMEOUT_MS/.test(p)).length, 1, problems.join('; '));
    assert.deepEqual(deploymentProblems({ ...SAFE, KEEP_ALIVE_TIMEOUT_MS: '30000', SHUTDOWN_GRACE_MS: '30000' }), []);
  });

  it('refuses metrics on their own port without a token', () => {
    const open = deploymentProblems({ ...SAFE, METRICS_PORT: '9464' });
    assert.equal(open.filter((p) => /METRICS_PORT serves \/metrics without METRICS_TOKEN/.test(p)).length, 1, open.join('; '));
    assert.deepEqual(deploymentProblems({ ...SAFE, METRICS_PORT: '9464', METRICS_TOKEN: 'm'.repeat(32) }), []);
  });

  it('refuses TRUST_PROXY off when an https public address declares a proxy in front', () => {
    const behindProxy = { ...SAFE, API_BASE_URL: 'https://api.example.com' };
    const problems = deploymentProblems(behindProxy);
    assert.equal(problems.filter((p) => /TRUST_PROXY is off/.test(p)).length, 1, problems.join('; '));
    assert.deepEqual(deploymentProblems({ ...behindProxy, TRUST_PROXY: '1' }), []);
    assert.deepEqual(deploymentProblems({ ...SAFE, API_BASE_URL: 'http://10.0.0.5:8080' }), []);
  });

  it('refuses development defaults and missing secrets', () => {
    const missing = deploymentProblems({ ...SAFE, JWT_SECRET: '', SECRETS_ENCRYPTION_KEY: '' });
    assert.equal(missing.length, 1);
    assert.match(missing[0], /JWT_SECRET/);
    const development = deploymentProblems({ ...SAFE, NODE_ENV: 'development', JWT_SECRET: '', SECRETS_ENCRYPTION_KEY: '' });
    assert.ok(development.some((p) => /NODE_ENV/.test(p)));
    assert.ok(development.some((p) => /development default/.test(p)));
    assert.ok(development.some((p) => /SECRETS_ENCRYPTION_KEY/.test(p)));
  });

  it('refuses a proxy setting that trusts every hop, and production without email verification or a mail server', () => {
    const trustAll = deploymentProblems({ ...SAFE, TRUST_PROXY: 'true' });
    assert.ok(trustAll.some((p) => /TRUST_PROXY=true/.test(p)), trustAll.join('; '));
    assert.deepEqual(deploymentProblems({ ...SAFE, TRUST_PROXY: '10.0.0.0/8,192.168.1.10' }), []);
    const noMail = deploymentProblems({ ...SAFE, SMTP_URL: '', EMAIL_VERIFICATION_REQUIRED: 'false' });
    for (const expected of [/SMTP_URL is not set/, /EMAIL_VERIFICATION_REQUIRED is off/]) {
      assert.ok(noMail.some((p) => expected.test(p)), `missing ${expected}: ${noMail.join('; ')}`);
    }
    const generous = deploymentProblems({ ...SAFE, TOKEN_THROTTLE_ACCOUNT_POINTS: '1000', SIGNUP_THROTTLE_POINTS: '1000' });
    for (const expected of [/TOKEN_THROTTLE_ACCOUNT_POINTS/, /SIGNUP_THROTTLE_POINTS/]) {
      assert.ok(generous.some((p) => expected.test(p)), `missing ${expected}: ${generous.join('; ')}`);
    }
  });

  it('accepts a scan worker that runs Prowler as another user and without the owner role', () => {
    const { DATABASE_ADMIN_URL: _owner, ...withoutOwner } = SAFE;
    assert.deepEqual(deploymentProblems({ ...withoutOwner, WORKER_QUEUES: 'scans', PROWLER_BIN: '/usr/local/bin/prowler', PROWLER_RUN_AS: '65534:65534' }), []);
  });

  it('refuses Prowler in a process that holds the owner database URL, or running as the worker’s own user', () => {
    const { DATABASE_ADMIN_URL: _owner, ...withoutOwner } = SAFE;
    const withOwner = deploymentProblems({ ...SAFE, PROWLER_BIN: '/usr/local/bin/prowler', PROWLER_RUN_AS: '65534:65534' });
    assert.ok(withOwner.some((p) => /PROWLER_BIN is set in a process that holds DATABASE_ADMIN_URL/.test(p)), withOwner.join('; '));
    const sameUser = deploymentProblems({ ...withoutOwner, WORKER_QUEUES: 'scans', PROWLER_BIN: '/usr/local/bin/prowler' });
    assert.deepEqual(sameUser.length, 1, sameUser.join('; '));
    assert.match(sameUser[0], /PROWLER_BIN is set without PROWLER_RUN_AS/);
  });

  it('refuses a process without the owner role unless it runs only the scans queue', () => {
    const { DATABASE_ADMIN_URL: _owner, ...withoutOwner } = SAFE;
    for (const queues of [undefined, 'scans,deletion']) {
      const problems = deploymentProblems({ ...withoutOwner, ...(queues ? { WORKER_QUEUES: queues } : {}) });
      assert.ok(problems.some((p) => /DATABASE_ADMIN_URL is required/.test(p)), problems.join('; '));
    }
  });

  it('refuses the placeholder secrets of docker-compose.yml and .env.example', () => {
    const compose = composeEnvironment();
    assert.equal(compose.NODE_ENV, 'production');
    const problems = deploymentProblems(compose);
    for (const expected of [/JWT_SECRET is a placeholder/, /SECRETS_ENCRYPTION_KEY holds a placeholder/]) {
      assert.ok(problems.some((p) => expected.test(p)), `missing ${expected}: ${problems.join('; ')}`);
    }
    const example = deploymentProblems({ ...SAFE, DATABASE_URL: 'postgres://cspm_api:change-me@127.0.0.1:5432/cspm' });
    assert.ok(example.some((p) => /DATABASE_URL has a placeholder password/.test(p)), example.join('; '));
    const hexKey = deploymentProblems({ ...SAFE, SECRETS_ENCRYPTION_KEY: `k1:${Buffer.from('a-key-to-change-me-0123456789abc').toString('hex')}` });
    assert.ok(hexKey.some((p) => /SECRETS_ENCRYPTION_KEY/.test(p)), hexKey.join('; '));
  });
});
