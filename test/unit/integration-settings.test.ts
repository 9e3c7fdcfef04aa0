import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '../../src/config/app-config';
import { ApiErrors } from '../../src/common/errors/api-error';
import { asffId, asffStatus, toAsff } from '../../src/integrations/asff';
import { recordStateOf } from '../../src/integrations/delivery/security-hub-delivery';
import { s3ComplianceKeyFor, s3KeyFor } from '../../src/integrations/delivery/s3-delivery';
import { slackMessage, summarise } from '../../src/integrations/delivery/slack-delivery';
import { errorForStatus, IntegrationRefusedError } from '../../src/integrations/integration-errors';
import { bucketNameProblem, jiraBaseUrl, normaliseOutputDirectory, validateSettings } from '../../src/integrations/integration-types';
import { outboundUrlProblem } from '../../src/integrations/outbound-target';
import { issueSummary } from '../../src/integrations/targets/jira-target';
import { TransientJobError } from '../../src/tasks/jobs/job-errors';

const BASE = { DATABASE_URL: 'postgres://app@127.0.0.1/db', DATABASE_ADMIN_URL: 'postgres://owner@127.0.0.1/db' };
const KEYS = { aws_access_key_id: 'AKIAIOSFODNN7EXAMPLE', aws_secret_access_key: 'secret' };

function pointersOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof ApiErrors, String(error));
    return error.errors.map((e) => e.source?.pointer ?? '');
  }
  assert.fail('expected a 400');
}

describe('integration settings', () => {
  it('refuses loopback, metadata and private targets, and lets loopback through only when allowed', () => {
    for (const url of ['http://example.com', 'https://127.0.0.1', 'https://localhost', 'https://169.254.169.254/latest', 'https://metadata.google.internal',
      'https://10.1.2.3', 'https://172.20.0.1', 'https://192.168.1.1', 'https://100.64.0.1', 'https://[fd00::1]', 'https://[::ffff:10.0.0.1]', 'https://user:pw@example.com', 'file:///etc/passwd', 'nonsense']) {
      assert.ok(outboundUrlProblem(url, false), url);
    }
    assert.equal(outboundUrlProblem('https://acme.atlassian.net', false), undefined);
    assert.equal(outboundUrlProblem('http://127.0.0.1:9000', true), undefined);
    assert.equal(outboundUrlProblem('http://[::1]:9000', true), undefined);
    for (const url of ['http://10.0.0.1', 'http://169.254.169.254', 'ftp://127.0.0.1']) assert.ok(outboundUrlProblem(url, true), url);
  });

  it('reads the integration settings, refusing local targets in production and bad endpoints at start', () => {
    const config = loadConfig({ ...BASE, INTEGRATIONS_ALLOW_LOCAL_TARGETS: 'true', INTEGRATIONS_S3_ENDPOINT_URL: 'http://127.0.0.1:4568/' }).integrations;
    assert.deepEqual(config, {
      allowLocalTargets: true,
      requestTimeoutMs: 30000,
      s3EndpointUrl: 'http://127.0.0.1:4568',
      securityHubEndpointUrl: '',
      slackApiUrl: 'https://slack.com/api',
    });
    const production = { ...BASE, NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(40), SECRETS_ENCRYPTION_KEY: 'k' };
    assert.throws(() => loadConfig({ ...production, INTEGRATIONS_ALLOW_LOCAL_TARGETS: 'true' }), /INTEGRATIONS_ALLOW_LOCAL_TARGETS/);
    assert.throws(() => loadConfig({ ...BASE, INTEGRATIONS_SLACK_API_URL: 'http://127.0.0.1:1' }), /INTEGRATIONS_SLACK_API_URL/);
    assert.throws(() => loadConfig({ ...BASE, INTEGRATIONS_SECURITY_HUB_ENDPOINT_URL: 'https://10.0.0.2' }), /INTEGRATIONS_SECURITY_HUB_ENDPOINT_URL/);
    assert.throws(() => loadConfig({ ...BASE, INTEGRATIONS_REQUEST_TIMEOUT_MS: '10' }), /INTEGRATIONS_REQUEST_TIMEOUT_MS/);
  });

  it('checks S3 bucket names and normalises the output directory as Prowler does', () => {
    for (const name of ['my-bucket', 'a.b.c', 'abc']) assert.equal(bucketNameProblem(name), undefined, name);
    for (const name of ['ab', 'My-Bucket', 'under_score', '-start', 'end-', 'a..b', '192.168.1.1', 'xn--bucket', 'x'.repeat(64)]) assert.ok(bucketNameProblem(name), name);
    assert.deepEqual(normaliseOutputDirectory(''), { value: 'output' });
    assert.deepEqual(normaliseOutputDirectory('///a//./b/'), { value: 'a/b' });
    assert.ok(normaliseOutputDirectory('a/../b').problem);
    assert.ok(normaliseOutputDirectory('a|b').problem);
    assert.ok(normaliseOutputDirectory('/').problem);
  });

  it('turns a Jira site name into its Atlassian URL and takes a URL only when local targets are allowed', () => {
    assert.deepEqual(jiraBaseUrl('Acme', false), { url: 'https://acme.atlassian.net' });
    assert.deepEqual(jiraBaseUrl('acme.atlassian.net', false), { url: 'https://acme.atlassian.net' });
    assert.ok(jiraBaseUrl('https://evil.example.com', false).problem);
    assert.ok(jiraBaseUrl('http://127.0.0.1:8080', false).problem);
    assert.deepEqual(jiraBaseUrl('http://127.0.0.1:8080/', true), { url: 'http://127.0.0.1:8080' });
    assert.ok(jiraBaseUrl('http://169.254.169.254', true).problem);
  });

  it('validates configuration and credentials per type, with a pointer for every problem', () => {
    assert.deepEqual(validateSettings('amazon_s3', { bucket_name: 'b-1' }, KEYS, false).configuration, { bucket_name: 'b-1', output_directory: 'output' });
    assert.deepEqual(validateSettings('aws_security_hub', {}, KEYS, false).configuration, { send_only_fails: false, archive_previous_findings: false });
    assert.deepEqual(validateSettings('jira', {}, { user_mail: 'a@b.co', api_token: 't', domain: 'acme' }, false).configuration, { domain: 'acme', projects: {}, issue_types: {} });
    assert.deepEqual(pointersOf(() => validateSettings('amazon_s3', { channel: 'C1' }, KEYS, false)).sort(), [
      '/data/attributes/configuration/bucket_name',
      '/data/attributes/configuration/channel',
    ]);
    assert.deepEqual(pointersOf(() => validateSettings('aws_security_hub', { send_only_fails: 'yes' }, { role_arn: 'arn:aws:iam::1:role/x' }, false)), [
      '/data/attributes/configuration/send_only_fails',
      '/data/attributes/credentials/role_arn',
    ]);
    assert.deepEqual(pointersOf(() => validateSettings('slack', { channel: '#ok' }, { bot_token: 'xoxp-user-token-0000' }, false)), ['/data/attributes/credentials/bot_token']);
    assert.deepEqual(pointersOf(() => validateSettings('jira', {}, { user_mail: 'nope', api_token: '', domain: 'a b' }, false)), [
      '/data/attributes/credentials/user_mail',
      '/data/attributes/credentials/api_token',
      '/data/attributes/credentials/domain',
    ]);
    assert.deepEqual(pointersOf(() => validateSettings('slack', [], {}, false)), ['/data/attributes/configuration']);
  });

  it('lays S3 keys out as Prowler does', () => {
    const scan = { id: 's', provider_uid: '123456789012', started_at: new Date('2026-12-01T08:09:10.123Z') } as any;
    assert.deepEqual(s3KeyFor('scan-s.csv', scan, 'out/dir'), { key: 'out/dir/csv/prowler-output-123456789012-20261201080910.csv', contentType: 'text/csv' });
    assert.equal(s3KeyFor('scan-s.ocsf.json', scan, 'o')!.key, 'o/json-ocsf/prowler-output-123456789012-20261201080910.ocsf.json');
    assert.equal(s3KeyFor('scan-s.html', scan, 'o')!.key, 'o/html/prowler-output-123456789012-20261201080910.html');
    assert.equal(s3KeyFor('compliance/cis_2.0_aws.csv', scan, 'o'), undefined);
    assert.equal(s3ComplianceKeyFor('cis_2.0_aws.csv', scan, 'o')!.key, 'o/compliance/prowler-output-123456789012-20261201080910_cis_2.0_aws.csv');
    assert.equal(s3ComplianceKeyFor('cis_2.0_aws.ocsf.json', scan, 'o'), undefined);
    assert.equal(s3ComplianceKeyFor('../x.csv', scan, 'o'), undefined);
    assert.equal(s3KeyFor('notes.txt', scan, 'o'), undefined);
    assert.equal(s3KeyFor('a/b.csv', scan, 'o'), undefined);
  });

  it('builds ASFF findings and chooses their record state as Prowler does', () => {
    const finding = {
      uid: 'u', check_id: 'iam_root_mfa', check_title: 'Root MFA', status: 'FAIL' as const, status_extended: 'x'.repeat(1200), severity: 'high',
      muted: false, region: 'eu-west-1', resource_type: 'AwsIamUser', resource_uid: 'arn:aws:iam::123456789012:root', compliance: { 'CIS-2.0': ['1.1', '1.2'] },
    };
    const asff = toAsff(finding, '123456789012', new Date('2026-12-01T00:00:00.000Z'), 'ACTIVE');
    assert.match(asff.Id!, /^prowler-iam_root_mfa-123456789012-eu-west-1-[0-9a-f]{128}$/);
    assert.equal(asff.Id, asffId(finding, '123456789012', 'eu-west-1'));
    assert.equal(asff.Severity!.Label, 'HIGH');
    assert.equal(asff.Description!.length, 1003);
    assert.equal(asff.UpdatedAt, '2026-12-01T00:00:00Z');
    assert.deepEqual(asff.Compliance, { Status: 'FAILED', AssociatedStandards: [{ StandardsId: 'CIS-2.0' }], RelatedRequirements: ['CIS-2.0 1.1 1.2'] });
    assert.equal(toAsff({ ...finding, region: 'cn-north-1' }, '1', new Date(), 'ACTIVE').ProductArn, 'arn:aws-cn:securityhub:cn-north-1::product/prowler/prowler');
    assert.deepEqual([asffStatus('PASS', false), asffStatus('FAIL', true), asffStatus('MANUAL', false)], ['PASSED', 'WARNING', 'NOT_AVAILABLE']);

    const all = { send_only_fails: false, archive_previous_findings: false };
    const fails = { ...all, send_only_fails: true };
    assert.equal(recordStateOf({ status: 'FAIL', delta: null }, fails), 'ACTIVE');
    assert.equal(recordStateOf({ status: 'PASS', delta: 'changed' }, fails), 'ARCHIVED');
    assert.equal(recordStateOf({ status: 'PASS', delta: null }, fails), null);
    assert.equal(recordStateOf({ status: 'PASS', delta: 'new' }, all), 'ACTIVE');
    assert.equal(recordStateOf({ status: 'MANUAL', delta: null }, all), null);
  });

  it('words Jira summaries and Slack messages, and sorts target answers into refusals and retries', () => {
    const finding = { check_id: 'c1', check_title: 't', severity: 'low', status: 'FAIL', status_extended: null, provider: 'aws', region: 'r', resource_uid: 'arn:x\n y', resource_name: '', compliance: {} };
    assert.equal(issueSummary(finding), '[Prowler] LOW - c1 - arn:x y');
    assert.equal(issueSummary({ ...finding, resource_uid: 'z'.repeat(400) }).length, 255);

    const summary = summarise([
      { severity: 'critical', status: 'FAIL', muted: false, findings: 2 },
      { severity: 'low', status: 'FAIL', muted: false, findings: 5 },
      { severity: 'low', status: 'FAIL', muted: true, findings: 3 },
      { severity: 'high', status: 'PASS', muted: false, findings: 7 },
    ]);
    assert.deepEqual(summary, { pass: 7, fail: 7, muted: 3, failBySeverity: { critical: 2, high: 0, medium: 0, low: 5, informational: 0 } });
    const message = slackMessage({ provider_type: 'aws', provider_alias: 'prod', provider_uid: '1' } as any, summary, 'https://api/scans/1');
    assert.match(message.text, /7 failed, 7 passed, 3 muted/);
    assert.ok(JSON.stringify(message.blocks).includes('<https://api/scans/1|View the scan>'));

    assert.ok(errorForStatus('Jira', 401) instanceof IntegrationRefusedError);
    assert.ok(errorForStatus('Jira', 403) instanceof IntegrationRefusedError);
    assert.ok(errorForStatus('Jira', 404) instanceof IntegrationRefusedError);
    for (const status of [408, 429, 500, 503]) assert.ok(errorForStatus('Jira', status) instanceof TransientJobError, String(status));
  });
});
