import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { unzipSync } from 'fflate';
import { Client } from 'pg';
import { newId } from '../../src/database/uuid';
import { asffId } from '../../src/integrations/asff';
import { INTEGRATION_CREDENTIAL_STORE, integrationAssociatedData } from '../../src/integrations/integration-credentials';
import { SecretCipher } from '../../src/providers/secret-cipher';
import { rotateSecrets } from '../../src/providers/secret-rotation';
import { LocalAppModule } from '../../src/local-app.module';
import { adminClient } from '../support/database';
import { generateRecords } from '../support/finding-generator';
import { ingestScan, insertProvider, insertScan } from '../support/findings-fixtures';
import { ApiClient, signIn, signUp, SignedUpUser } from '../support/http-client';
import {
  AWS_KEY_ID,
  AWS_SECRET,
  JIRA_TOKEN,
  JIRA_USER,
  JiraServer,
  S3Server,
  SecurityHubServer,
  SLACK_TOKEN,
  SlackServer,
  startJiraServer,
  startS3Server,
  startSecurityHubServer,
  startSlackServer,
} from '../support/integration-servers';
import { enqueue, fastQueueEnv, waitForTaskEnd } from '../support/tasks-fixture';
import { startTestApp, TestApp } from '../support/test-app';
import { PROWLER_COMPLIANCE_DIR } from '../support/prowler-compliance';

const ACCOUNT = '123456789012';
const REGION = 'eu-west-1';
const BUCKET = 'cspm-reports';
const AWS_CREDENTIALS = { aws_access_key_id: AWS_KEY_ID, aws_secret_access_key: AWS_SECRET };

function integrationBody(type: string, configuration: unknown, credentials: unknown, providers: string[] = [], extra: Record<string, unknown> = {}) {
  return {
    data: {
      type: 'integrations',
      attributes: { integration_type: type, configuration, credentials, ...extra },
      ...(providers.length ? { relationships: { providers: { data: providers.map((id) => ({ type: 'providers', id })) } } } : {}),
    },
  };
}

function pointers(body: any): string[] {
  return (body.errors ?? []).map((error: any) => error.source?.pointer ?? error.source?.parameter);
}

/** Records of one region (so Security Hub batches fill up), with a fifth of the statuses flipped in the second scan. */
function* recordsInOneRegion(count: number, scanIndex: number) {
  for (const record of generateRecords({ providerKey: 'integrations', count, scanIndex, changeRate: 0.2 })) {
    yield { ...record, region: REGION, resources: record.resources.map((resource) => ({ ...resource, region: REGION })) };
  }
}

/**
 * Integrations end to end, against real local targets: s3rver for S3 (it
 * verifies SigV4), and HTTP servers speaking Security Hub's, Jira's and
 * Slack's APIs. Jobs run in the in-process workers.
 */
describe('integrations', () => {
  let admin: Client;
  let app: TestApp;
  let owner: SignedUpUser;
  let api: ApiClient;
  let s3: S3Server;
  let hub: SecurityHubServer;
  let jira: JiraServer;
  let slack: SlackServer;
  let providerA: string;
  let providerB: string;
  const scans = { first: '', second: '' };
  const reportsDir = mkdtempSync(join(tmpdir(), 'cspm-integration-reports-'));
  const startedAt = { first: new Date(Date.now() - 3 * 3600_000), second: new Date(Date.now() - 3600_000) };

  before(async () => {
    admin = await adminClient();
    [s3, hub, jira, slack] = await Promise.all([startS3Server(BUCKET), startSecurityHubServer(), startJiraServer(), startSlackServer()]);
    app = await startTestApp(
      {
        ...fastQueueEnv('integrations'),
        WORKERS_IN_PROCESS: 'true',
        REPORTS_DIR: reportsDir,
        PROWLER_COMPLIANCE_DIR,
        INTEGRATIONS_ALLOW_LOCAL_TARGETS: 'true',
        INTEGRATIONS_S3_ENDPOINT_URL: s3.url,
        INTEGRATIONS_SECURITY_HUB_ENDPOINT_URL: hub.url,
        INTEGRATIONS_SLACK_API_URL: slack.url,
        INTEGRATIONS_REQUEST_TIMEOUT_MS: '1500',
        // One integrations job at a time, so a hanging target visibly holds that queue and only that queue.
        QUEUE_CONCURRENCY_INTEGRATIONS: '1',
      },
      LocalAppModule,
    );
    owner = await signUp(app.baseUrl, 'integrations');
    api = owner.client;
    providerA = await insertProvider(admin, owner.tenantId, 'aws', ACCOUNT);
    providerB = await insertProvider(admin, owner.tenantId, 'aws', '210987654321');
    scans.first = await insertScan(admin, owner.tenantId, providerA, startedAt.first);
    scans.second = await insertScan(admin, owner.tenantId, providerA, startedAt.second);
    const scan = (key: 'first' | 'second') => ({ tenantId: owner.tenantId, scanId: scans[key], providerId: providerA, scanStartedAt: startedAt[key] });
    await ingestScan(app, scan('first'), recordsInOneRegion(400, 0));
    await ingestScan(app, scan('second'), recordsInOneRegion(400, 1));
  });

  after(async () => {
    await app.close();
    await Promise.all([s3.close(), hub.close(), jira.close(), slack.close()]);
    await admin.end();
    rmSync(reportsDir, { recursive: true, force: true });
  });

  /** A member whose only role has manage_integrations but sees only `visibleProvider`. */
  async function limitedMember(visibleProvider: string): Promise<ApiClient> {
    const user = await signUp(app.baseUrl, 'integrations-limited');
    const [roleId, groupId] = [newId(), newId()];
    const tenantId = owner.tenantId;
    await admin.query(`INSERT INTO memberships (id, tenant_id, user_id, role) VALUES ($1, $2, $3, 'member')`, [newId(), tenantId, user.userId]);
    await admin.query(`INSERT INTO roles (id, tenant_id, name, manage_integrations, unlimited_visibility) VALUES ($1, $2, $3, true, false)`, [roleId, tenantId, `limited-${roleId.slice(-6)}`]);
    await admin.query(`INSERT INTO user_roles (id, tenant_id, user_id, role_id) VALUES ($1, $2, $3, $4)`, [newId(), tenantId, user.userId, roleId]);
    await admin.query(`INSERT INTO provider_groups (id, tenant_id, name) VALUES ($1, $2, $3)`, [groupId, tenantId, `group-${groupId.slice(-6)}`]);
    await admin.query(`INSERT INTO provider_group_memberships (id, tenant_id, provider_group_id, provider_id) VALUES ($1, $2, $3, $4)`, [newId(), tenantId, groupId, visibleProvider]);
    await admin.query(`INSERT INTO role_provider_groups (id, tenant_id, role_id, provider_group_id) VALUES ($1, $2, $3, $4)`, [newId(), tenantId, roleId, groupId]);
    const tokens = await signIn(app.baseUrl, user.email, user.password, tenantId);
    return new ApiClient(app.baseUrl, tokens.access);
  }

  async function create(body: unknown): Promise<string> {
    const created = await api.post('/api/v1/integrations', body);
    assert.equal(created.status, 201, JSON.stringify(created.body));
    return created.body.data.id;
  }

  it('refuses bad input with 400 and pointers: unknown types, configuration of another type, bucket names, Jira sites and private targets', async () => {
    const unknownType = await api.post('/api/v1/integrations', integrationBody('github', {}, {}));
    assert.equal(unknownType.status, 400);
    assert.deepEqual(pointers(unknownType.body), ['/data/attributes/integration_type']);

    const wrongConfiguration = await api.post('/api/v1/integrations', integrationBody('amazon_s3', { send_only_fails: true }, AWS_CREDENTIALS, [providerA]));
    assert.equal(wrongConfiguration.status, 400);
    assert.deepEqual(pointers(wrongConfiguration.body).sort(), ['/data/attributes/configuration/bucket_name', '/data/attributes/configuration/send_only_fails']);

    const badBucket = await api.post('/api/v1/integrations', integrationBody('amazon_s3', { bucket_name: 'Not_A_Bucket' }, AWS_CREDENTIALS, [providerA]));
    assert.equal(badBucket.status, 400);
    assert.deepEqual(pointers(badBucket.body), ['/data/attributes/configuration/bucket_name']);

    const badDirectory = await api.post('/api/v1/integrations', integrationBody('amazon_s3', { bucket_name: BUCKET, output_directory: 'a/../b' }, AWS_CREDENTIALS, [providerA]));
    assert.deepEqual([badDirectory.status, pointers(badDirectory.body)], [400, ['/data/attributes/configuration/output_directory']]);

    const badKeys = await api.post('/api/v1/integrations', integrationBody('aws_security_hub', {}, { aws_access_key_id: 'short' }, [providerA]));
    assert.equal(badKeys.status, 400);
    assert.deepEqual(pointers(badKeys.body).sort(), ['/data/attributes/credentials/aws_access_key_id', '/data/attributes/credentials/aws_secret_access_key']);
    assert.ok(!JSON.stringify(badKeys.body).includes('short'), 'errors never echo credential values');

    for (const domain of ['not a site!', 'http://169.254.169.254', 'http://10.0.0.5:8080', 'file:///etc/passwd']) {
      const badSite = await api.post('/api/v1/integrations', integrationBody('jira', {}, { user_mail: JIRA_USER, api_token: JIRA_TOKEN, domain }));
      assert.equal(badSite.status, 400, domain);
      assert.deepEqual(pointers(badSite.body), ['/data/attributes/credentials/domain'], domain);
    }
    const jiraWithConfiguration = await api.post('/api/v1/integrations', integrationBody('jira', { domain: 'x' }, { user_mail: JIRA_USER, api_token: JIRA_TOKEN, domain: 'acme' }));
    assert.deepEqual([jiraWithConfiguration.status, pointers(jiraWithConfiguration.body)], [400, ['/data/attributes/configuration']]);

    const hubWithoutProvider = await api.post('/api/v1/integrations', integrationBody('aws_security_hub', {}, AWS_CREDENTIALS));
    assert.deepEqual([hubWithoutProvider.status, pointers(hubWithoutProvider.body)], [400, ['/data/relationships/providers']]);

    const badChannel = await api.post('/api/v1/integrations', integrationBody('slack', { channel: 'general' }, { bot_token: SLACK_TOKEN }, [providerA]));
    assert.deepEqual([badChannel.status, pointers(badChannel.body)], [400, ['/data/attributes/configuration/channel']]);

    const [{ count }] = (await admin.query(`SELECT count(*)::int AS count FROM integrations WHERE tenant_id = $1`, [owner.tenantId])).rows;
    assert.equal(count, 0, 'nothing was half-written');
  });

  it('stores credentials encrypted and never returns them; visibility follows the providers', async () => {
    const id = await create(integrationBody('amazon_s3', { bucket_name: 'visibility-bucket', output_directory: '//team//reports/' }, AWS_CREDENTIALS, [providerA, providerB]));
    const detail = await api.get(`/api/v1/integrations/${id}?include=providers`);
    assert.equal(detail.status, 200);
    assert.deepEqual(detail.body.data.attributes.configuration, { bucket_name: 'visibility-bucket', output_directory: 'team/reports' });
    assert.equal(detail.body.data.attributes.credentials, undefined);
    assert.ok(!JSON.stringify(detail.body).includes(AWS_SECRET));
    assert.deepEqual(detail.body.data.relationships.providers.data.map((p: any) => p.id).sort(), [providerA, providerB].sort());
    assert.equal(detail.body.included.length, 2);
    const [stored] = (await admin.query(`SELECT credentials FROM integrations WHERE id = $1`, [id])).rows;
    assert.match(stored.credentials, /^v1\./);
    assert.ok(!stored.credentials.includes(AWS_SECRET) && !stored.credentials.includes(AWS_KEY_ID));

    const duplicate = await api.post('/api/v1/integrations', integrationBody('amazon_s3', { bucket_name: 'visibility-bucket', output_directory: 'team/reports' }, AWS_CREDENTIALS, [providerA]));
    assert.equal(duplicate.status, 409);

    const onlyA = await create(integrationBody('amazon_s3', { bucket_name: 'only-a-bucket' }, AWS_CREDENTIALS, [providerA]));
    const jiraId = await create(integrationBody('jira', {}, { user_mail: JIRA_USER, api_token: JIRA_TOKEN, domain: 'acme-visibility' }));

    const member = await limitedMember(providerB);
    const listed = await member.get('/api/v1/integrations?page[size]=50');
    assert.equal(listed.status, 200);
    const seen = new Map<string, any>(listed.body.data.map((i: any) => [i.id, i]));
    assert.ok(seen.has(id), 'shared with a provider the member sees');
    assert.ok(seen.has(jiraId), 'Jira is tenant-wide');
    assert.ok(!seen.has(onlyA), 'linked only to a provider the member cannot see');
    assert.deepEqual(seen.get(id).relationships.providers.data.map((p: any) => p.id), [providerB], 'hidden providers are left out');
    assert.equal((await member.get(`/api/v1/integrations/${onlyA}`)).status, 404);
    assert.equal((await member.post(`/api/v1/integrations/${onlyA}/connection`)).status, 404);
    const patched = await member.patch(`/api/v1/integrations/${id}`, { data: { type: 'integrations', id, attributes: { enabled: false } } });
    assert.equal(patched.status, 403, 'linked to a provider the member cannot see');
    assert.equal((await member.delete(`/api/v1/integrations/${id}`)).status, 403);
    const linkHidden = await member.post('/api/v1/integrations', integrationBody('amazon_s3', { bucket_name: 'member-bucket' }, AWS_CREDENTIALS, [providerA]));
    assert.equal(linkHidden.status, 404);

    const filtered = await api.get('/api/v1/integrations?filter[integration_type]=jira');
    assert.deepEqual(filtered.body.data.map((i: any) => i.id), [jiraId]);
    assert.equal(filtered.body.data[0].attributes.configuration.domain, 'acme-visibility');

    const renamed = await api.patch(`/api/v1/integrations/${onlyA}`, {
      data: { type: 'integrations', id: onlyA, attributes: { enabled: false, configuration: { bucket_name: 'only-a-renamed' } } },
    });
    assert.equal(renamed.status, 200, JSON.stringify(renamed.body));
    assert.deepEqual([renamed.body.data.attributes.enabled, renamed.body.data.attributes.configuration.bucket_name], [false, 'only-a-renamed']);
    const retyped = await api.patch(`/api/v1/integrations/${onlyA}`, { data: { type: 'integrations', id: onlyA, attributes: { integration_type: 'slack' } } });
    assert.deepEqual([retyped.status, pointers(retyped.body)], [400, ['/data/attributes/integration_type']]);

    for (const removed of [id, onlyA, jiraId]) assert.equal((await api.delete(`/api/v1/integrations/${removed}`)).status, 204);
    assert.equal((await api.get(`/api/v1/integrations/${id}`)).status, 404);
  });

  it('after a scan: the report goes to S3 in Prowler’s layout, FAIL findings to Security Hub in batches of 100 with fixed ones archived, one Slack summary; a second run sends nothing again', async () => {
    const s3Id = await create(integrationBody('amazon_s3', { bucket_name: BUCKET, output_directory: 'prowler-output' }, AWS_CREDENTIALS, [providerA]));
    const hubId = await create(integrationBody('aws_security_hub', { send_only_fails: true }, AWS_CREDENTIALS, [providerA]));
    const slackId = await create(integrationBody('slack', { channel: 'C0123456789' }, { bot_token: SLACK_TOKEN }, [providerA]));
    const secondHub = await api.post('/api/v1/integrations', integrationBody('aws_security_hub', {}, AWS_CREDENTIALS, [providerA]));
    assert.equal(secondHub.status, 409, 'one Security Hub integration per provider');

    const report = await enqueue(app, owner.tenantId, { name: 'scan-report', args: { scanId: scans.second, providerId: providerA } });
    assert.equal((await waitForTaskEnd(report.id, 60000)).state, 'completed');
    const task = await enqueue(app, owner.tenantId, { name: 'scan-integrations', args: { scanId: scans.second, providerId: providerA } });
    const ended = await waitForTaskEnd(task.id, 60000);
    assert.equal(ended.state, 'completed', JSON.stringify(ended.result));
    assert.deepEqual(ended.result.integrations.map((o: any) => [o.integration, o.status]).sort(), [[s3Id, 'sent'], [hubId, 'sent'], [slackId, 'sent']].sort());

    // S3: the zip's files, byte for byte, under <dir>/<format>/prowler-output-<account>-<scan start>.<ext>.
    const zip = unzipSync(await readFile(join(reportsDir, owner.tenantId, `${scans.second}.zip`)));
    const stamp = startedAt.second.toISOString().replace(/[-:T]/g, '').slice(0, 14);
    const client = new S3Client({ region: 'us-east-1', endpoint: s3.url, forcePathStyle: true, credentials: { accessKeyId: AWS_KEY_ID, secretAccessKey: AWS_SECRET } });
    try {
      const listed = await client.send(new ListObjectsV2Command({ Bucket: BUCKET }));
      const keys = (listed.Contents ?? []).map((object) => object.Key).sort();
      const base = `prowler-output-${ACCOUNT}-${stamp}`;
      // And every compliance CSV of the scan, as Prowler names them: <dir>/compliance/<base>_<compliance id>.csv.
      const complianceFolder = join(reportsDir, owner.tenantId, `${scans.second}-compliance`);
      const complianceCsvs = readdirSync(complianceFolder).filter((name) => name.endsWith('.csv'));
      assert.ok(complianceCsvs.length > 10, `the report step wrote the compliance CSVs: ${complianceCsvs.length}`);
      const complianceKeys = complianceCsvs.map((name) => `prowler-output/compliance/${base}_${name}`);
      assert.deepEqual(keys, [`prowler-output/csv/${base}.csv`, `prowler-output/html/${base}.html`, `prowler-output/json-ocsf/${base}.ocsf.json`, ...complianceKeys].sort());
      for (const [suffix, folder] of [['.csv', 'csv'], ['.html', 'html'], ['.ocsf.json', 'json-ocsf']]) {
        const object = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: `prowler-output/${folder}/${base}${suffix}` }));
        const body = Buffer.from(await object.Body!.transformToByteArray());
        assert.ok(body.equals(Buffer.from(zip[`scan-${scans.second}${suffix}`])), `${suffix} matches the report`);
      }
      for (const name of [complianceCsvs[0], complianceCsvs[complianceCsvs.length - 1]]) {
        const object = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: `prowler-output/compliance/${base}_${name}` }));
        const body = Buffer.from(await object.Body!.transformToByteArray());
        assert.ok(body.equals(readFileSync(join(complianceFolder, name))), `${name} matches the compliance report`);
      }
    } finally {
      client.destroy();
    }

    // Security Hub: FAIL findings active, PASS findings that were FAIL before archived, nothing else; batches of at most 100.
    const findings = (await admin.query(`SELECT status, delta, check_id, resource_uid FROM findings WHERE scan_id = $1`, [scans.second])).rows;
    const expectedActive = findings.filter((f) => f.status === 'FAIL').map((f) => asffId(f, ACCOUNT, REGION)).sort();
    const expectedArchived = findings.filter((f) => f.status === 'PASS' && f.delta === 'changed').map((f) => asffId(f, ACCOUNT, REGION)).sort();
    assert.ok(expectedActive.length > 100 && expectedArchived.length > 0, 'enough findings for several batches and some archives');
    const sent = hub.batches.flatMap((batch) => batch.findings);
    assert.ok(hub.batches.every((batch) => batch.findings.length <= 100 && batch.region === REGION));
    assert.ok(hub.batches.filter((batch) => batch.findings.length === 100).length >= 1);
    assert.deepEqual(sent.filter((f) => f.RecordState === 'ACTIVE').map((f) => f.Id).sort(), expectedActive);
    assert.deepEqual(sent.filter((f) => f.RecordState === 'ARCHIVED').map((f) => f.Id).sort(), expectedArchived);
    const sample = sent.find((f) => f.RecordState === 'ACTIVE')!;
    assert.equal(sample.AwsAccountId, ACCOUNT);
    assert.equal(sample.ProductArn, `arn:aws:securityhub:${REGION}::product/prowler/prowler`);
    assert.equal(sample.Compliance.Status, 'FAILED');
    assert.match(sample.Severity.Label, /^(CRITICAL|HIGH|MEDIUM|LOW|INFORMATIONAL)$/);

    // Slack: one message with the failed counts by severity and a link to the scan.
    assert.equal(slack.messages.length, 1);
    const failed = findings.filter((f) => f.status === 'FAIL').length;
    assert.equal(slack.messages[0].channel, 'C0123456789');
    assert.ok(slack.messages[0].text.includes(`${failed} failed`), slack.messages[0].text);
    assert.ok(JSON.stringify(slack.messages[0].blocks).includes(`/api/v1/scans/${scans.second}`));

    // Another run for the same scan (a retry, a repeated follow-up) sends nothing twice.
    const batchesBefore = hub.batches.length;
    const again = await enqueue(app, owner.tenantId, { name: 'scan-integrations', args: { scanId: scans.second, providerId: providerA } });
    const againEnded = await waitForTaskEnd(again.id, 30000);
    assert.equal(againEnded.state, 'completed', JSON.stringify(againEnded.result));
    assert.ok(againEnded.result.integrations.every((o: any) => o.status === 'already_sent'));
    assert.equal(hub.batches.length, batchesBefore);
    assert.equal(slack.messages.length, 1);

    // The S3 integration stays out of the failure test below, which has no report to upload.
    const disabled = await api.patch(`/api/v1/integrations/${s3Id}`, { data: { type: 'integrations', id: s3Id, attributes: { enabled: false } } });
    assert.equal(disabled.status, 200);
  });

  it('a failing target never fails the scan: transient errors retry with backoff and send once, a refused token is recorded and not retried', async () => {
    const badSlack = await create(integrationBody('slack', { channel: '#security' }, { bot_token: 'xoxb-0000000000-wrongtoken' }, [providerA]));
    hub.mode = 'error-once';
    hub.batches.length = 0;
    const slackCalls = slack.calls;
    const [scanBefore] = (await admin.query(`SELECT state FROM scans WHERE id = $1`, [scans.first])).rows;

    const task = await enqueue(app, owner.tenantId, { name: 'scan-integrations', args: { scanId: scans.first, providerId: providerA } });
    const ended = await waitForTaskEnd(task.id, 60000);
    assert.equal(ended.state, 'failed');
    assert.equal(ended.result.outcome, 'integration_refused', JSON.stringify(ended.result));
    assert.match(ended.result.error, /Slack refused the request \(invalid_auth\)/);
    assert.ok(ended.result.error.includes(badSlack));

    // Security Hub failed once (HTTP 500), was retried, and each finding went exactly once.
    const ids = hub.batches.flatMap((batch) => batch.findings.map((f) => f.Id));
    const failing = (await admin.query(`SELECT count(*)::int AS count FROM findings WHERE scan_id = $1 AND status = 'FAIL'`, [scans.first])).rows[0].count;
    assert.equal(ids.length, failing);
    assert.equal(new Set(ids).size, ids.length);
    // The good Slack integration posted its one message; the refused one was called once and never again.
    assert.equal(slack.calls - slackCalls, 2);
    const deliveries = (await admin.query(`SELECT integration_id, state, error FROM integration_deliveries WHERE run_id = $1`, [scans.first])).rows;
    const refused = deliveries.find((d) => d.integration_id === badSlack);
    assert.equal(refused.state, 'refused');
    const [scanAfter] = (await admin.query(`SELECT state FROM scans WHERE id = $1`, [scans.first])).rows;
    assert.equal(scanAfter.state, scanBefore.state);
    assert.equal((await api.delete(`/api/v1/integrations/${badSlack}`)).status, 204);
  });

  it('connection checks per type: connected when the target accepts, a clear reason when it refuses or hangs', async () => {
    const check = async (id: string) => {
      const accepted = await api.post(`/api/v1/integrations/${id}/connection`);
      assert.equal(accepted.status, 202, JSON.stringify(accepted.body));
      assert.equal(accepted.headers.get('content-location'), `/api/v1/tasks/${accepted.body.data.id}`);
      const ended = await waitForTaskEnd(accepted.body.data.id, 30000);
      assert.equal(ended.state, 'completed', JSON.stringify(ended.result));
      const detail = await api.get(`/api/v1/integrations/${id}`);
      assert.equal(detail.body.data.attributes.connected, ended.result.connected);
      assert.ok(detail.body.data.attributes.connection_last_checked_at);
      return ended.result as { connected: boolean; error: string | null };
    };
    const goodS3 = await create(integrationBody('amazon_s3', { bucket_name: BUCKET, output_directory: 'checks' }, AWS_CREDENTIALS, [providerB]));
    assert.deepEqual(await check(goodS3), { connected: true, error: null });

    // s3rver knows the key ids it was given (it does not recompute SigV4 signatures; the Security Hub server checks their form).
    const unknownKey = await create(integrationBody('amazon_s3', { bucket_name: BUCKET, output_directory: 'wrong' }, { ...AWS_CREDENTIALS, aws_access_key_id: 'AKIAUNKNOWNKEY000000' }, [providerB]));
    const refusedS3 = await check(unknownKey);
    assert.equal(refusedS3.connected, false);
    assert.match(refusedS3.error!, /Amazon S3 refused the request \(InvalidAccessKeyId/);

    const missingBucket = await create(integrationBody('amazon_s3', { bucket_name: 'no-such-bucket' }, AWS_CREDENTIALS, [providerB]));
    assert.match((await check(missingBucket)).error!, /NoSuchBucket/);

    const hubId = await create(integrationBody('aws_security_hub', {}, AWS_CREDENTIALS, [providerB]));
    hub.mode = 'ok';
    assert.deepEqual(await check(hubId), { connected: true, error: null });
    // A wrong secret signs wrongly: the server recomputes the signature and refuses it, as AWS does.
    const providerC = await insertProvider(admin, owner.tenantId, 'aws', '333333333333');
    const wrongHubSecret = await create(integrationBody('aws_security_hub', {}, { ...AWS_CREDENTIALS, aws_secret_access_key: 'not-the-secret' }, [providerC]));
    assert.match((await check(wrongHubSecret)).error!, /AWS Security Hub refused the request \(InvalidSignatureException, HTTP 403\)/);
    hub.mode = 'forbidden';
    assert.match((await check(hubId)).error!, /AWS Security Hub refused/);
    hub.mode = 'hang';
    const started = Date.now();
    const hung = await check(hubId);
    assert.equal(hung.connected, false);
    assert.match(hung.error!, /did not answer in time/);
    assert.ok(Date.now() - started < 15000, 'cut off by the request timeout');
    hub.mode = 'ok';

    const slackId = await create(integrationBody('slack', { channel: 'C0123456789' }, { bot_token: SLACK_TOKEN }, [providerB]));
    assert.deepEqual(await check(slackId), { connected: true, error: null });

    const refusedJira = await create(integrationBody('jira', {}, { user_mail: JIRA_USER, api_token: 'wrong-token', domain: `${jira.url}/wrong` }));
    const jiraRefusal = await check(refusedJira);
    assert.equal(jiraRefusal.connected, false);
    assert.match(jiraRefusal.error!, /Jira refused the credentials \(HTTP 401\)/);
  });

  it('a target that hangs holds only the integrations queue: an overview job runs meanwhile', async () => {
    // The first one, made with the right keys (a later one signs with a wrong secret).
    const [{ id: hubId }] = (await admin.query(`SELECT id FROM integrations WHERE tenant_id = $1 AND integration_type = 'aws_security_hub' ORDER BY inserted_at LIMIT 1`, [owner.tenantId])).rows;
    hub.mode = 'hang';
    try {
      const checks: string[] = [];
      for (let i = 0; i < 3; i++) checks.push((await api.post(`/api/v1/integrations/${hubId}/connection`)).body.data.id);
      const overview = await enqueue(app, owner.tenantId, { name: 'scan-overview', args: { scanId: scans.second, providerId: providerA } });
      assert.equal((await waitForTaskEnd(overview.id, 20000)).state, 'completed');
      const unfinished = await admin.query(`SELECT count(*)::int AS count FROM tasks WHERE id = ANY($1::uuid[]) AND state IN ('available', 'executing')`, [checks]);
      assert.ok(unfinished.rows[0].count > 0, 'the overview finished while the hanging checks still held their queue');
      for (const id of checks) {
        const ended = await waitForTaskEnd(id, 30000);
        assert.deepEqual([ended.state, ended.result.connected], ['completed', false]);
        assert.match(ended.result.error, /did not answer in time/);
      }
    } finally {
      hub.mode = 'ok';
    }
  });

  it('Jira: the connection check finds the projects, issue_types lists a project’s types, dispatches create one issue per visible finding', async () => {
    const id = await create(integrationBody('jira', {}, { user_mail: JIRA_USER, api_token: JIRA_TOKEN, domain: jira.url }));
    const beforeCheck = await api.get(`/api/v1/integrations/${id}/jira/issue_types?project_key=SEC`);
    assert.equal(beforeCheck.status, 400, 'the project is known only once the connection was checked');

    const checked = await api.post(`/api/v1/integrations/${id}/connection`);
    assert.equal((await waitForTaskEnd(checked.body.data.id, 30000)).result.connected, true);
    const detail = await api.get(`/api/v1/integrations/${id}`);
    assert.deepEqual(detail.body.data.attributes.configuration.projects, { SEC: 'Security' });

    const types = await api.get(`/api/v1/integrations/${id}/jira/issue_types?project_key=SEC`);
    assert.equal(types.status, 200, JSON.stringify(types.body));
    assert.equal(types.body.data.type, 'jira-issue-types');
    assert.deepEqual(types.body.data.attributes, { project_key: 'SEC', issue_types: ['Task', 'Bug'] });
    assert.equal((await api.get(`/api/v1/integrations/${id}/jira/issue_types`)).status, 400);
    // Jira going away between the check and the look-up is a 400 naming the reason, never a 5xx.
    await admin.query(`UPDATE integrations SET configuration = configuration || '{"projects": {"SEC": "Security", "GONE": "Gone"}}'::jsonb WHERE id = $1`, [id]);
    const gone = await api.get(`/api/v1/integrations/${id}/jira/issue_types?project_key=GONE`);
    assert.equal(gone.status, 400);
    assert.match(gone.body.errors[0].detail, /Jira refused the request \(HTTP 404\)/);

    const picked = (await admin.query(`SELECT id, check_id, severity, resource_uid FROM findings WHERE scan_id = $1 AND status = 'FAIL' ORDER BY id LIMIT 2`, [scans.second])).rows;
    const dispatchBody = { data: { type: 'integrations-jira-dispatches', attributes: { project_key: 'SEC', issue_type: 'Task' } } };
    const noFilter = await api.post(`/api/v1/integrations/${id}/jira/dispatches`, dispatchBody);
    assert.equal(noFilter.status, 400);
    const badProject = await api.post(`/api/v1/integrations/${id}/jira/dispatches?filter[finding_id]=${picked[0].id}`, {
      data: { type: 'integrations-jira-dispatches', attributes: { project_key: 'OPS', issue_type: 'Task' } },
    });
    assert.deepEqual([badProject.status, pointers(badProject.body)], [400, ['/data/attributes/project_key']]);

    // A member who cannot see provider A sends none of its findings.
    const member = await limitedMember(providerB);
    const hidden = await member.post(`/api/v1/integrations/${id}/jira/dispatches?filter[finding_id]=${picked[0].id}`, dispatchBody);
    assert.equal(hidden.status, 404);

    const issuesBefore = jira.issues.length;
    const accepted = await api.post(`/api/v1/integrations/${id}/jira/dispatches?filter[finding_id__in]=${picked.map((f) => f.id).join(',')}`, dispatchBody);
    assert.equal(accepted.status, 202, JSON.stringify(accepted.body));
    const ended = await waitForTaskEnd(accepted.body.data.id, 30000);
    assert.equal(ended.state, 'completed', JSON.stringify(ended.result));
    assert.deepEqual(ended.result, { created_count: 2, failed_count: 0 });
    const issues = jira.issues.slice(issuesBefore);
    assert.equal(issues.length, 2);
    for (const [index, finding] of picked.entries()) {
      assert.equal(issues[index].fields.summary, `[Prowler] ${finding.severity.toUpperCase()} - ${finding.check_id} - ${finding.resource_uid}`);
      assert.equal(issues[index].fields.issuetype.name, 'Task');
      assert.equal(issues[index].fields.description.type, 'doc');
      assert.ok(JSON.stringify(issues[index].fields.description).includes(finding.check_id));
    }
  });

  it('secrets:rotate moves integration credentials onto the current key, and the worker still reads them', async () => {
    const id = await create(integrationBody('slack', { channel: 'C0123456789' }, { bot_token: SLACK_TOKEN }, [providerB]));
    // Rewritten under a retired key: only this row is off the current key, so the rotation touches no other test's rows.
    const current = app.config.secretsEncryptionKey.includes(':') ? app.config.secretsEncryptionKey : `k1:${app.config.secretsEncryptionKey}`;
    const retired = `retired:${randomBytes(32).toString('base64')}`;
    const old = SecretCipher.fromEnv(retired).encrypt({ bot_token: SLACK_TOKEN }, integrationAssociatedData(owner.tenantId, id));
    await admin.query(`UPDATE integrations SET credentials = $2, key_id = 'retired' WHERE id = $1`, [id, old]);
    const keyring = SecretCipher.fromEnv(`${current},${retired}`);
    const result = await rotateSecrets(async (sql, params) => (await admin.query(sql, params)).rows, keyring, 500, INTEGRATION_CREDENTIAL_STORE);
    assert.deepEqual(result, { rotated: 1, unreadable: [] });
    const [stored] = (await admin.query(`SELECT credentials, key_id FROM integrations WHERE id = $1`, [id])).rows;
    assert.equal(stored.key_id, keyring.currentKeyId);
    assert.ok(!stored.credentials.includes(SLACK_TOKEN));
    const checked = await api.post(`/api/v1/integrations/${id}/connection`);
    assert.deepEqual((await waitForTaskEnd(checked.body.data.id, 30000)).result, { connected: true, error: null });
  });
});
