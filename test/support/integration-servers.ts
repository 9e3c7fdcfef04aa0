import { createHash, createHmac } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Local stand-ins for the integrations' targets, each a real HTTP server on
 * 127.0.0.1 that checks what a real target checks (signatures' shape, basic
 * auth, bot tokens) and records what it received.
 */

export const AWS_KEY_ID = 'AKIAIOSFODNN7EXAMPLE';
export const AWS_SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function close(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function json(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(JSON.stringify(body));
}

/** s3rver with one bucket; it verifies SigV4 signatures against the key pair registered here. */
export interface S3Server {
  url: string;
  bucket: string;
  close(): Promise<void>;
}

export async function startS3Server(bucket: string): Promise<S3Server> {
  // s3rver is CommonJS without types.
  const S3rver = require('s3rver');
  const { DUMMY_ACCOUNT } = require('s3rver/lib/models/account');
  DUMMY_ACCOUNT.createKeyPair(AWS_KEY_ID, AWS_SECRET);
  const directory = mkdtempSync(join(tmpdir(), 'cspm-s3rver-'));
  const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory, configureBuckets: [{ name: bucket }] });
  const address = (await server.run()) as AddressInfo;
  return {
    url: `http://127.0.0.1:${address.port}`,
    bucket,
    close: async () => {
      await server.close();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}

/** `AWS4-HMAC-SHA256 Credential=<key>/<yyyymmdd>/<region>/<service>/aws4_request, SignedHeaders=…, Signature=<64 hex>`. */
const SIGV4 = /^AWS4-HMAC-SHA256 Credential=([A-Z0-9]+)\/(\d{8})\/([a-z0-9-]+)\/([a-z0-9]+)\/aws4_request, SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})$/;

export interface SecurityHubBatch {
  region: string;
  findings: Array<Record<string, any>>;
}

const sha256 = (data: string) => createHash('sha256').update(data, 'utf8').digest('hex');
const hmac = (key: Buffer | string, data: string) => createHmac('sha256', key).update(data, 'utf8').digest();

/**
 * Recomputes a request's SigV4 signature with the secret key, as AWS does:
 * the canonical request (method, path, sorted query, the signed headers,
 * the body's hash), the string to sign under the credential scope, and the
 * key derived from the secret, date, region and service.
 */
export function sigV4Matches(request: IncomingMessage, body: string, match: RegExpExecArray, secret: string): boolean {
  const [, , date, region, service, signedHeaders, signature] = match;
  const url = new URL(request.url ?? '/', 'http://local');
  const query = [...url.searchParams.entries()]
    .map(([name, value]) => [encodeURIComponent(name), encodeURIComponent(value)])
    .sort(([a, x], [b, y]) => (a === b ? (x < y ? -1 : 1) : a < b ? -1 : 1))
    .map(([name, value]) => `${name}=${value}`)
    .join('&');
  const headers = signedHeaders.split(';').map((name) => `${name}:${String(request.headers[name] ?? '').trim().replace(/\s+/g, ' ')}\n`).join('');
  const payloadHash = String(request.headers['x-amz-content-sha256'] ?? sha256(body));
  const canonical = [request.method, url.pathname, query, headers, signedHeaders, payloadHash].join('\n');
  const scope = `${date}/${region}/${service}/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', String(request.headers['x-amz-date']), scope, sha256(canonical)].join('\n');
  const key = hmac(hmac(hmac(hmac(`AWS4${secret}`, date), region), service), 'aws4_request');
  return createHmac('sha256', key).update(stringToSign, 'utf8').digest('hex') === signature;
}

/**
 * Security Hub's REST-JSON API as far as the integration uses it:
 * `POST /findings/import` (BatchImportFindings) and `GET /accounts`
 * (DescribeHub). Requests must carry a SigV4 Authorization for the
 * configured key and the `securityhub` service, with host and date signed,
 * whose signature it recomputes with the secret; anything else is 403
 * (`InvalidSignatureException` for a wrong signature, as AWS answers).
 * `mode` makes it refuse, fail or hang.
 */
export interface SecurityHubServer {
  url: string;
  batches: SecurityHubBatch[];
  requests: number;
  mode: 'ok' | 'forbidden' | 'error-once' | 'hang';
  close(): Promise<void>;
}

export async function startSecurityHubServer(): Promise<SecurityHubServer> {
  const state: SecurityHubServer = { url: '', batches: [], requests: 0, mode: 'ok', close: async () => undefined };
  const server = createServer(async (request, response) => {
    state.requests++;
    const body = await readBody(request);
    const match = SIGV4.exec(String(request.headers.authorization ?? ''));
    const signed = match?.[5].split(';') ?? [];
    if (!match || match[1] !== AWS_KEY_ID || match[4] !== 'securityhub' || !signed.includes('host') || !signed.includes('x-amz-date') || !request.headers['x-amz-date']) {
      return json(response, 403, { message: 'The request signature is not a valid SigV4 signature for this key.' });
    }
    if (!sigV4Matches(request, body, match, AWS_SECRET)) {
      response.writeHead(403, { 'content-type': 'application/json', 'x-amzn-errortype': 'InvalidSignatureException' });
      return response.end(JSON.stringify({ message: 'The request signature we calculated does not match the signature you provided.' }));
    }
    if (state.mode === 'hang') return; // never answers
    if (state.mode === 'forbidden') return json(response, 403, { message: 'AccessDenied' });
    if (state.mode === 'error-once') {
      state.mode = 'ok';
      return json(response, 500, { message: 'InternalException' });
    }
    if (request.method === 'GET' && request.url === '/accounts') return json(response, 200, { HubArn: `arn:aws:securityhub:${match[3]}:123456789012:hub/default` });
    if (request.method === 'POST' && request.url === '/findings/import') {
      const findings = JSON.parse(body).Findings as Array<Record<string, any>>;
      if (findings.length > 100) return json(response, 400, { message: 'At most 100 findings per batch.' });
      state.batches.push({ region: match[3], findings });
      return json(response, 200, { FailedCount: 0, SuccessCount: findings.length, FailedFindings: [] });
    }
    json(response, 404, { message: 'Not found' });
  });
  state.url = await listen(server);
  state.close = () => close(server);
  return state;
}

/** Jira Cloud's REST API v3 for one account and one project; basic auth is checked. */
export interface JiraServer {
  url: string;
  issues: Array<Record<string, any>>;
  close(): Promise<void>;
}

export const JIRA_USER = 'jira-bot@example.com';
export const JIRA_TOKEN = 'jira-api-token-0123456789';

export async function startJiraServer(): Promise<JiraServer> {
  const state: JiraServer = { url: '', issues: [], close: async () => undefined };
  const expected = `Basic ${Buffer.from(`${JIRA_USER}:${JIRA_TOKEN}`).toString('base64')}`;
  const server = createServer(async (request, response) => {
    const body = await readBody(request);
    if (request.headers.authorization !== expected) return json(response, 401, { errorMessages: ['Client must be authenticated to access this resource.'] });
    if (request.method === 'GET' && request.url === '/rest/api/3/project') return json(response, 200, [{ key: 'SEC', name: 'Security' }]);
    if (request.method === 'GET' && request.url === '/rest/api/3/issue/createmeta/SEC/issuetypes') {
      return json(response, 200, { issueTypes: [{ name: 'Task' }, { name: 'Bug' }], maxResults: 50, startAt: 0, total: 2 });
    }
    if (request.method === 'POST' && request.url === '/rest/api/3/issue') {
      const payload = JSON.parse(body);
      if (payload.fields?.project?.key !== 'SEC') return json(response, 400, { errors: { project: 'valid project is required' } });
      if (!['Task', 'Bug'].includes(payload.fields?.issuetype?.name)) return json(response, 400, { errors: { issuetype: 'valid issue type is required' } });
      state.issues.push(payload);
      return json(response, 201, { id: String(10000 + state.issues.length), key: `SEC-${state.issues.length}` });
    }
    json(response, 404, { errorMessages: ['Not found'] });
  });
  state.url = await listen(server);
  state.close = () => close(server);
  return state;
}

/** Slack's Web API: `auth.test` and `chat.postMessage` with a bot token (HTTP 200 with `ok: false` on errors, as Slack does). */
export interface SlackServer {
  url: string;
  messages: Array<Record<string, any>>;
  calls: number;
  close(): Promise<void>;
}

export const SLACK_TOKEN = 'xoxb-1234567890-abcdefghij';

export async function startSlackServer(): Promise<SlackServer> {
  const state: SlackServer = { url: '', messages: [], calls: 0, close: async () => undefined };
  const server = createServer(async (request, response) => {
    state.calls++;
    const body = await readBody(request);
    if (request.headers.authorization !== `Bearer ${SLACK_TOKEN}`) return json(response, 200, { ok: false, error: 'invalid_auth' });
    if (request.url === '/auth.test') return json(response, 200, { ok: true, team: 'test', user: 'cspm-bot' });
    if (request.url === '/chat.postMessage') {
      state.messages.push(JSON.parse(body));
      return json(response, 200, { ok: true, channel: 'C0123456789', ts: `1700000000.${String(state.messages.length).padStart(6, '0')}` });
    }
    json(response, 200, { ok: false, error: 'unknown_method' });
  });
  state.url = await listen(server);
  state.close = () => close(server);
  return state;
}

/** Settings that point the app's Slack calls at a local receiver (loopback targets allowed, as in development). */
export function slackTestEnv(slack: SlackServer): Record<string, string> {
  return { INTEGRATIONS_ALLOW_LOCAL_TARGETS: 'true', INTEGRATIONS_SLACK_API_URL: slack.url };
}
