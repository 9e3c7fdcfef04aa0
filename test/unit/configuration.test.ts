import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { loadConfig, ownerRoleProblem, parseTrustProxy } from '../../src/config/app-config';
import { createMailer } from '../../src/mail/mail.module';
import { LogMailer, SmtpMailer } from '../../src/mail/mailer';
import { parseOsUser } from '../../src/config/os-user';
import { concurrencyVariable, QUEUE_NAMES } from '../../src/tasks/queue-names';

const ROOT = resolve(__dirname, '..', '..', '..');
const BASE = { DATABASE_URL: 'postgres://app@127.0.0.1/db', DATABASE_ADMIN_URL: 'postgres://owner@127.0.0.1/db' };

/** Every variable loadConfig validates, read from its source so a new one cannot slip past the docs. */
function variablesInCode(): string[] {
  const source = readFileSync(resolve(ROOT, 'src/config/app-config.ts'), 'utf8');
  const declared = [...source.matchAll(/^\s+([A-Z][A-Z0-9_]+): (?:str|num|bool|url)\(/gm)].map((match) => match[1]);
  assert.ok(declared.length > 30, `found only ${declared.length} variables: the pattern no longer matches app-config.ts`);
  return [...declared, ...QUEUE_NAMES.map(concurrencyVariable)];
}

describe('configuration', () => {
  it('gives each queue its own concurrency variable, with defaults', () => {
    const defaults = loadConfig(BASE).tasks.concurrency;
    assert.deepEqual(Object.keys(defaults).sort(), [...QUEUE_NAMES].sort());
    const overrides = Object.fromEntries(QUEUE_NAMES.map((queue, index) => [concurrencyVariable(queue), String(index + 3)]));
    const configured = loadConfig({ ...BASE, ...overrides }).tasks.concurrency;
    QUEUE_NAMES.forEach((queue, index) => assert.equal(configured[queue], index + 3, queue));
    assert.equal(concurrencyVariable('scan-reports'), 'QUEUE_CONCURRENCY_SCAN_REPORTS');
  });

  it('refuses a concurrency that is not a positive integer, naming the variable', () => {
    for (const value of ['0', '-1', '1.5', 'many', '1001']) {
      assert.throws(() => loadConfig({ ...BASE, QUEUE_CONCURRENCY_SCANS: value }), /QUEUE_CONCURRENCY_SCANS/, value);
    }
  });

  it('refuses bad values with a message naming the variable', () => {
    assert.throws(() => loadConfig({ ...BASE, PORT: 'eighty' }), /PORT/);
    assert.throws(() => loadConfig({ ...BASE, JOB_LOCK_DURATION_MS: '5' }), /JOB_LOCK_DURATION_MS/);
    assert.throws(() => loadConfig({ ...BASE, CONNECTION_CHECK_URL: 'ftp://x' }), /CONNECTION_CHECK_URL/);
    assert.throws(() => loadConfig({ ...BASE, NODE_ENV: 'production', TEST_JOBS: 'true', JWT_SECRET: 'x'.repeat(40), SECRETS_ENCRYPTION_KEY: 'k' }), /TEST_JOBS/);
    assert.throws(() => loadConfig({ DATABASE_ADMIN_URL: BASE.DATABASE_ADMIN_URL }), /DATABASE_URL/);
  });

  it('takes TRUST_PROXY as a hop count or proxy addresses, and refuses true', () => {
    assert.equal(parseTrustProxy('false'), false);
    assert.equal(parseTrustProxy('0'), false);
    assert.equal(parseTrustProxy('2'), 2);
    assert.deepEqual(parseTrustProxy('10.0.0.0/8, 192.168.1.10,fd00::/8'), ['10.0.0.0/8', '192.168.1.10', 'fd00::/8']);
    for (const bad of ['true', 'yes', '10.0.0.0/33', '10.0.0.1/8/2', 'proxy.internal', '11']) {
      assert.throws(() => parseTrustProxy(bad), /TRUST_PROXY/, bad);
    }
    assert.throws(() => loadConfig({ ...BASE, TRUST_PROXY: 'true' }), /TRUST_PROXY=true/);
  });

  it('requires email verification by default in production only, and a mail server for it', () => {
    const production = { ...BASE, NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(40), SECRETS_ENCRYPTION_KEY: 'k' };
    assert.equal(loadConfig(BASE).email.verificationRequired, false);
    assert.equal(loadConfig(production).email.verificationRequired, true);
    assert.equal(loadConfig({ ...production, EMAIL_VERIFICATION_REQUIRED: 'false' }).email.verificationRequired, false);
    assert.equal(loadConfig({ ...BASE, EMAIL_VERIFICATION_REQUIRED: 'true' }).email.verificationRequired, true);
    assert.throws(() => loadConfig({ ...BASE, SMTP_URL: 'http://mail' }), /SMTP_URL/);

    // The API refuses to start in production when nobody could receive a verification mail.
    assert.throws(() => createMailer(loadConfig(production)), /SMTP_URL is required/);
    assert.ok(createMailer(loadConfig({ ...production, EMAIL_VERIFICATION_REQUIRED: 'false' })) instanceof LogMailer);
    assert.ok(createMailer(loadConfig(BASE)) instanceof LogMailer);
    const smtp = createMailer(loadConfig({ ...production, SMTP_URL: 'smtp://127.0.0.1:2525' }));
    assert.ok(smtp instanceof SmtpMailer);
    smtp.close();
  });

  it('reads PROWLER_RUN_AS as uid:gid or a user of /etc/passwd, never root', () => {
    assert.deepEqual(loadConfig({ ...BASE, PROWLER_RUN_AS: '1000:1001' }).scans.prowlerRunAs, { uid: 1000, gid: 1001 });
    assert.deepEqual(parseOsUser('scanner', 'V', () => 'root:x:0:0::/root:/bin/sh\nscanner:x:1234:5678::/nonexistent:/usr/sbin/nologin\n'), { uid: 1234, gid: 5678 });
    assert.equal(loadConfig(BASE).scans.prowlerRunAs, null);
    for (const value of ['0:0', '1000:0', 'root', 'no-such-user-here', 'a b', '1000']) {
      assert.throws(() => loadConfig({ ...BASE, PROWLER_RUN_AS: value }), /PROWLER_RUN_AS/, value);
    }
  });

  it('reads WORKER_QUEUES, and lets only a scans-only worker go without the owner role', () => {
    assert.deepEqual(loadConfig(BASE).workers.queues, QUEUE_NAMES);
    assert.deepEqual(loadConfig({ ...BASE, WORKER_QUEUES: 'scans, deletion' }).workers.queues, ['scans', 'deletion']);
    assert.throws(() => loadConfig({ ...BASE, WORKER_QUEUES: 'scans,nope' }), /WORKER_QUEUES/);
    const scansOnly = loadConfig({ DATABASE_URL: BASE.DATABASE_URL, WORKER_QUEUES: 'scans' });
    assert.equal(ownerRoleProblem(scansOnly, 'worker'), undefined);
    assert.match(ownerRoleProblem(scansOnly, 'api')!, /required by the API/);
    assert.match(ownerRoleProblem(loadConfig({ DATABASE_URL: BASE.DATABASE_URL }), 'worker')!, /required by a worker of the overview/);
    assert.equal(ownerRoleProblem(loadConfig(BASE), 'api'), undefined);
  });

  it('refuses OCSF caps below 1024 bytes and an encoding heap below 16 MB', () => {
    for (const name of ['SCAN_IMPORT_MAX_DECOMPRESSED_BYTES', 'SCAN_RECORD_MAX_BYTES']) assert.throws(() => loadConfig({ ...BASE, [name]: '1000' }), new RegExp(name));
    assert.throws(() => loadConfig({ ...BASE, SCAN_ENCODING_THREAD_HEAP_MB: '8' }), /SCAN_ENCODING_THREAD_HEAP_MB/);
  });

  it('documents every variable in the README and in .env.example', () => {
    const readme = readFileSync(resolve(ROOT, 'README.md'), 'utf8');
    const example = readFileSync(resolve(ROOT, '.env.example'), 'utf8');
    for (const name of variablesInCode()) {
      assert.ok(readme.includes(`\`${name}\``), `${name} is missing from the README's configuration table`);
      assert.match(example, new RegExp(`^#? ?${name}=`, 'm'), `${name} is missing from .env.example`);
    }
  });
});
