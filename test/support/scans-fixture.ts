import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createProvider, randomAwsUid } from './access-fixtures';
import { ApiClient, HttpResult } from './http-client';
import { OCSF_FIXTURE } from './ocsf-fixture-path';
import { pollTask } from './tasks-fixture';

export { OCSF_FIXTURE };

/** The AWS account the fixture's findings name (cloud.account.uid). */
export const FIXTURE_ACCOUNT = '123456789012';

/**
 * The fixture's findings: Prowler's own example output, five AWS findings on
 * two resources, as a scan of `accountUid` would hold them (an AWS provider
 * takes only findings of the account its uid names).
 */
export function fixtureFindings(accountUid = FIXTURE_ACCOUNT): Array<Record<string, any>> {
  const findings: Array<Record<string, any>> = JSON.parse(readFileSync(OCSF_FIXTURE, 'utf8'));
  for (const finding of findings) finding.cloud.account.uid = accountUid;
  return findings;
}

/** An AWS provider with a fresh account id as its uid, for findings of that account to be imported into. */
export async function awsProvider(client: ApiClient, alias?: string): Promise<{ id: string; uid: string }> {
  const uid = randomAwsUid();
  return { id: await createProvider(client, 'aws', uid, alias), uid };
}

export function newSpoolDir(label: string): string {
  return mkdtempSync(join(tmpdir(), `cspm-spool-${label}-`));
}

/** POST /api/v1/scans/imports as a browser or curl would send it: multipart/form-data. */
export async function uploadImport(
  client: ApiClient,
  fields: { provider_id?: string; name?: string },
  file?: Buffer | string,
  options: { fileField?: string; fileFirst?: boolean } = {},
): Promise<HttpResult> {
  const form = new FormData();
  const appendFile = () => {
    if (file !== undefined) form.append(options.fileField ?? 'file', new Blob([new Uint8Array(typeof file === 'string' ? Buffer.from(file) : file)]), 'prowler-output.ocsf.json');
  };
  if (options.fileFirst) appendFile();
  for (const [key, value] of Object.entries(fields)) if (value !== undefined) form.append(key, value);
  if (!options.fileFirst) appendFile();
  const response = await fetch(`${client.baseUrl}/api/v1/scans/imports`, {
    method: 'POST',
    headers: { accept: 'application/vnd.api+json', ...(client.token ? { authorization: `Bearer ${client.token}` } : {}) },
    body: form,
  });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    // Not JSON: kept as text for the assertion message.
  }
  return { status: response.status, headers: response.headers, body };
}

/** Uploads, expects 202, and answers the finished task (through the API, as a client polls). */
export async function importAndWait(client: ApiClient, providerId: string, file: Buffer | string, timeoutMs = 30000): Promise<Record<string, any>> {
  const accepted = await uploadImport(client, { provider_id: providerId }, file);
  if (accepted.status !== 202) throw new Error(`import refused: ${accepted.status} ${JSON.stringify(accepted.body)}`);
  return pollTask(client, accepted.body.data.id, timeoutMs);
}

/**
 * PROWLER_BIN pointed at a stand-in executable this test writes: it is not
 * Prowler and scans nothing. It records the arguments and credential
 * variables it was given, waits while the test holds a `hold` file, then
 * writes Prowler's example OCSF output (the fixture) where Prowler would,
 * `<output-directory>/<output-filename>.ocsf.json`. Its findings name the
 * account the test tied to the access key it was given (scanAccount), as
 * Prowler names the account its credentials are of.
 *
 * With a `probe-environ` file, it also does what a command smuggled into a
 * scan would do: it reads the environment of its parent (/proc/<ppid>/environ)
 * and of every process it can see under /proc, and records which of the worker's own secrets it
 * found (`environLeaks`); with a `symlink-output` file, its output is a
 * symbolic link to the path that file names. The control directory must be
 * writable by the user it runs as.
 */
/** What a worker holds that its scans must never reach. */
export const WORKER_SECRETS = ['DATABASE_ADMIN_URL', 'SECRETS_ENCRYPTION_KEY', 'JWT_SECRET'];

export function writeProwlerStandIn(controlDir: string): string {
  const path = join(controlDir, 'prowler-stand-in.js');
  writeFileSync(
    path,
    `#!${process.execPath}
const fs = require('node:fs');
const path = require('node:path');
const control = ${JSON.stringify(controlDir)};
const args = process.argv.slice(2);
const outputDirectory = args[args.indexOf('--output-directory') + 1];
const outputName = args[args.indexOf('--output-filename') + 1];
fs.writeFileSync(path.join(control, 'run-' + process.pid + '.json'), JSON.stringify({
  pid: process.pid,
  args,
  credentials: { AWS_ACCESS_KEY_ID: process.env.AWS_ACCESS_KEY_ID ?? null, AWS_SECRET_ACCESS_KEY: process.env.AWS_SECRET_ACCESS_KEY ?? null },
  leaked: Object.keys(process.env).filter((name) => /^(DATABASE|REDIS|JWT|SECRETS)_/.test(name)),
  uid: process.getuid(),
  environLeaks: fs.existsSync(path.join(control, 'probe-environ')) ? environLeaks() : null,
}));
function environLeaks() {
  const found = [];
  const pids = new Set([String(process.ppid), ...fs.readdirSync('/proc').filter((name) => /^\d+$/.test(name))]);
  pids.delete(String(process.pid));
  for (const pid of pids) {
    let environ;
    try {
      environ = fs.readFileSync('/proc/' + pid + '/environ', 'latin1');
    } catch {
      continue;
    }
    for (const entry of environ.split('\0')) {
      const name = entry.slice(0, entry.indexOf('='));
      if (${JSON.stringify(WORKER_SECRETS)}.includes(name)) found.push(name + ' of ' + (pid === String(process.ppid) ? 'the parent ' : '') + pid);
    }
  }
  return found;
}
function finish() {
  if (fs.existsSync(path.join(control, 'fail'))) {
    process.stderr.write('stand-in failed on purpose with ' + process.env.AWS_SECRET_ACCESS_KEY + '\\n');
    process.exit(2);
  }
  const link = path.join(control, 'symlink-output');
  if (fs.existsSync(link)) return fs.symlinkSync(fs.readFileSync(link, 'utf8'), path.join(outputDirectory, outputName + '.ocsf.json'));
  const findings = JSON.parse(fs.readFileSync(${JSON.stringify(OCSF_FIXTURE)}, 'utf8'));
  const accountFile = path.join(control, 'account-' + process.env.AWS_ACCESS_KEY_ID);
  if (fs.existsSync(accountFile)) for (const finding of findings) finding.cloud.account.uid = fs.readFileSync(accountFile, 'utf8');
  fs.writeFileSync(path.join(outputDirectory, outputName + '.ocsf.json'), JSON.stringify(findings, null, 2));
}
(function wait() {
  if (fs.existsSync(path.join(control, 'hold'))) return setTimeout(wait, 50);
  finish();
})();
`,
  );
  chmodSync(path, 0o755);
  return path;
}

/** Ties an access key to an account: the stand-in run with that key writes findings of that account. */
export function scanAccount(controlDir: string, accessKeyId: string, accountUid: string): void {
  writeFileSync(join(controlDir, `account-${accessKeyId}`), accountUid);
}
