import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { LocalAppModule } from '../../src/local-app.module';
import { allPermissions, memberWith, randomAwsUid } from '../support/access-fixtures';
import { ApiClient, HttpResult, SignedUpUser, signUp } from '../support/http-client';
import { fixtureFindings, newSpoolDir } from '../support/scans-fixture';
import { adminRows, fastQueueEnv, waitFor } from '../support/tasks-fixture';
import { startTestApp, TestApp } from '../support/test-app';

/**
 * A stand-in for `prowler <provider> --push-to-cloud` (prowler/lib/outputs/ocsf/ingestion.py):
 * `requests.post(url, headers={Authorization: Api-Key <key>, Accept: application/vnd.api+json},
 * files={"file": (basename, fh, "application/json")})`, byte for byte the body requests builds
 * (a uuid4-hex boundary, one part named file with its filename and content type) and its default headers.
 */
async function pushLikeProwlerCli(baseUrl: string, apiKey: string, content: string, filename = 'prowler-output-123456789012-20250101000000.ocsf.json'): Promise<HttpResult> {
  const boundary = randomUUID().replace(/-/g, '');
  const body = Buffer.concat([
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${filename}"\r\nContent-Type: application/json\r\n\r\n`),
    Buffer.from(content),
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  const response = await fetch(`${baseUrl.replace(/\/$/, '')}/api/v1/ingestions`, {
    method: 'POST',
    headers: {
      'User-Agent': 'python-requests/2.32.3',
      'Accept-Encoding': 'gzip, deflate',
      Accept: 'application/vnd.api+json',
      Connection: 'keep-alive',
      Authorization: `Api-Key ${apiKey}`,
      'Content-Type': `multipart/form-data; boundary=${boundary}`,
      'Content-Length': String(body.length),
    },
    body,
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : undefined };
}

const FINISHED = ['completed', 'failed', 'cancelled'];

describe('ingestions pushed by the Prowler CLI', () => {
  let app: TestApp;
  let owner: SignedUpUser;
  let ownerKey: string;
  const spoolDir = newSpoolDir('ingestions');

  async function newKey(client: ApiClient): Promise<string> {
    const created = await client.post('/api/v1/api-keys', { data: { type: 'api-keys', attributes: { name: `cli ${randomUUID()}` } } });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    return created.body.data.attributes.api_key;
  }

  async function ingestionEnd(client: ApiClient, id: string): Promise<any> {
    return waitFor(`ingestion ${id}`, async () => {
      const read = await client.get(`/api/v1/ingestions/${id}`);
      assert.equal(read.status, 200, JSON.stringify(read.body));
      return FINISHED.includes(read.body.data.attributes.state) ? read.body.data : undefined;
    }, 30000);
  }

  const providersWithUid = (uid: string) => adminRows<{ id: string }>(`SELECT id FROM providers WHERE tenant_id = $1 AND uid = $2`, [owner.tenantId, uid]);
  const spoolFiles = () => (existsSync(join(spoolDir, 'imports')) ? readdirSync(join(spoolDir, 'imports')) : []);

  before(async () => {
    app = await startTestApp({ ...fastQueueEnv('ingestions'), WORKERS_IN_PROCESS: 'true', SCAN_SPOOL_DIR: spoolDir }, LocalAppModule);
    owner = await signUp(app.baseUrl, 'pusher');
    ownerKey = await newKey(owner.client);
  });
  after(async () => {
    await app.close();
    rmSync(spoolDir, { recursive: true, force: true });
  });

  it('takes the CLI’s request: 202 with the task id, then a new provider and a manual, pushed scan holding the findings', async () => {
    const account = randomAwsUid();
    const accepted = await pushLikeProwlerCli(app.baseUrl, ownerKey, JSON.stringify(fixtureFindings(account)));
    assert.equal(accepted.status, 202, JSON.stringify(accepted.body));
    assert.equal(accepted.headers.get('content-type'), 'application/vnd.api+json');
    const id = accepted.body.data.id;
    assert.equal(accepted.headers.get('content-location'), `/api/v1/ingestions/${id}`);
    assert.equal(accepted.body.data.type, 'ingestions');
    const task = await owner.client.get(`/api/v1/tasks/${id}`);
    assert.equal(task.status, 200);
    assert.equal(task.body.data.attributes.name, 'scan-ingestion');

    const ingestion = await ingestionEnd(owner.client, id);
    assert.equal(ingestion.attributes.state, 'completed', JSON.stringify(ingestion));
    assert.equal(ingestion.attributes.progress, 100);
    assert.equal(ingestion.attributes.provider_created, true);
    const providerId = ingestion.relationships.provider.data.id;
    const scanId = ingestion.relationships.scan.data.id;

    const provider = await owner.client.get(`/api/v1/providers/${providerId}`);
    assert.equal(provider.body.data.attributes.provider, 'aws');
    assert.equal(provider.body.data.attributes.uid, account);
    const scan = await owner.client.get(`/api/v1/scans/${scanId}`);
    assert.equal(scan.body.data.attributes.trigger, 'manual');
    assert.equal(scan.body.data.attributes.origin, 'pushed');
    assert.equal(scan.body.data.attributes.state, 'completed');
    const findings = await owner.client.get(`/api/v1/findings?filter[scan]=${scanId}`);
    assert.equal(findings.body.meta.pagination.count, 5);
    // The follow-up jobs run as after an import.
    const followUps = await waitFor('the follow-up jobs', async () => {
      const tasks = await adminRows<{ name: string; state: string }>(`SELECT name, state FROM tasks WHERE task_args->>'scanId' = $1 AND name <> 'scan-import' ORDER BY name`, [scanId]);
      return tasks.length === 4 && tasks.every((t) => t.state === 'completed') ? tasks : undefined;
    }, 20000);
    assert.deepEqual(followUps.map((t) => t.name), ['scan-compliance', 'scan-integrations', 'scan-overview', 'scan-report']);
    assert.deepEqual(spoolFiles(), []);

    // A second push of the same account goes to the same provider.
    const again = await pushLikeProwlerCli(app.baseUrl, ownerKey, JSON.stringify(fixtureFindings(account)));
    const second = await ingestionEnd(owner.client, again.body.data.id);
    assert.equal(second.attributes.state, 'completed');
    assert.equal(second.attributes.provider_created, false);
    assert.equal(second.relationships.provider.data.id, providerId);
    assert.notEqual(second.relationships.scan.data.id, scanId);
  });

  it('a role that may not manage providers pushes only to providers that exist', async () => {
    const member = await memberWith(app.baseUrl, owner, { ...allPermissions(), manage_providers: false }, 'cli-no-providers');
    const key = await newKey(member.client);
    const unknown = randomAwsUid();
    const refused = await pushLikeProwlerCli(app.baseUrl, key, JSON.stringify(fixtureFindings(unknown)));
    assert.equal(refused.status, 202);
    const failed = await ingestionEnd(owner.client, refused.body.data.id);
    assert.equal(failed.attributes.state, 'failed');
    assert.match(failed.attributes.error, /manage_providers/);
    assert.deepEqual(await providersWithUid(unknown), []);

    const existing = randomAwsUid();
    await owner.client.post('/api/v1/providers', { data: { type: 'providers', attributes: { provider: 'aws', uid: existing } } });
    const taken = await pushLikeProwlerCli(app.baseUrl, key, JSON.stringify(fixtureFindings(existing)));
    assert.equal((await ingestionEnd(owner.client, taken.body.data.id)).attributes.state, 'completed');
  });

  it('a file that is not OCSF fails its task with the reason, keeping nothing', async () => {
    const before = await adminRows(`SELECT id FROM scans WHERE tenant_id = $1`, [owner.tenantId]);
    for (const content of ['this is not json', '{"an": "object"}', JSON.stringify([{ class_uid: 1001, cloud: { provider: 'aws', account: { uid: randomAwsUid() } } }])]) {
      const accepted = await pushLikeProwlerCli(app.baseUrl, ownerKey, content);
      assert.equal(accepted.status, 202, JSON.stringify(accepted.body));
      const failed = await ingestionEnd(owner.client, accepted.body.data.id);
      assert.equal(failed.attributes.state, 'failed', content);
      assert.match(failed.attributes.error, /not ingested/);
    }
    const after = await adminRows(`SELECT id FROM scans WHERE tenant_id = $1`, [owner.tenantId]);
    assert.equal(after.length, before.length);
    assert.deepEqual(spoolFiles(), []);
  });

  it('a file mixing two accounts fails naming the records, and creates no provider', async () => {
    const first = randomAwsUid();
    const findings = fixtureFindings(first);
    findings[3].cloud.account.uid = '999999999999';
    const accepted = await pushLikeProwlerCli(app.baseUrl, ownerKey, JSON.stringify(findings));
    const failed = await ingestionEnd(owner.client, accepted.body.data.id);
    assert.equal(failed.attributes.state, 'failed');
    assert.match(failed.attributes.error, /record 3.*account '999999999999', expected '\d{12}'/);
    assert.deepEqual(await providersWithUid(first), []);
  });

  it('refuses a push without a valid key, or by a role that may not scan', async () => {
    const content = JSON.stringify(fixtureFindings(randomAwsUid()));
    assert.equal((await pushLikeProwlerCli(app.baseUrl, 'pk_nothere1.' + 'x'.repeat(43), content)).status, 401);
    const limited = await memberWith(app.baseUrl, owner, { ...allPermissions(), manage_scans: false }, 'cli-no-scans');
    const key = await newKey(limited.client);
    const refused = await pushLikeProwlerCli(app.baseUrl, key, content);
    assert.equal(refused.status, 403);
    assert.deepEqual(spoolFiles(), []);
  });
});

