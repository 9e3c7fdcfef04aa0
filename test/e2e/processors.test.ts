import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { LocalAppModule } from '../../src/local-app.module';
import { allBut, memberWith } from '../support/access-fixtures';
import { ApiClient, SignedUpUser, signUp } from '../support/http-client';
import { awsProvider, fixtureFindings, importAndWait } from '../support/scans-fixture';
import { adminRows, fastQueueEnv, pollTask, waitFor } from '../support/tasks-fixture';
import { startTestApp, TestApp } from '../support/test-app';

const REASON = 'Muted by mutelist';

function processorBody(configuration: unknown, extra: Record<string, unknown> = {}) {
  return { data: { type: 'processors', attributes: { processor_type: 'mutelist', configuration, ...extra } } };
}

function patchBody(id: string, configuration: unknown) {
  return { data: { type: 'processors', id, attributes: { configuration } } };
}

/** The fixture's five findings, the first (accessanalyzer, eu-west-1) tagged Environment=prod. */
function taggedFixture(accountUid: string): string {
  const findings = fixtureFindings(accountUid);
  findings[0].resources[0].labels = ['Environment:prod', 'Owner:team-a'];
  return JSON.stringify(findings);
}

async function latestFindings(client: ApiClient, providerId: string): Promise<Map<string, { muted: boolean; muted_reason: string | null }>> {
  const response = await client.get(`/api/v1/findings/latest?filter[provider]=${providerId}&page[size]=100`);
  assert.equal(response.status, 200, JSON.stringify(response.body));
  return new Map(response.body.data.map((f: any) => [f.attributes.check_id, { muted: f.attributes.muted, muted_reason: f.attributes.muted_reason }]));
}

/** The newest mutelist-backfill task once it has ended, started after `since` (ids are UUIDv7: they sort by time). */
async function backfillAfter(client: ApiClient, since: string | null): Promise<Record<string, any>> {
  const task = await waitFor('a mutelist-backfill task', async () => {
    const listed = await client.get(`/api/v1/tasks?filter[name]=mutelist-backfill&sort=-inserted_at&page[size]=1`);
    const newest = listed.body.data[0];
    return newest && newest.id !== since ? newest : undefined;
  });
  return pollTask(client, task.id, 30000);
}

describe('processors: the Mutelist', () => {
  let app: TestApp;
  let owner: SignedUpUser;

  before(async () => {
    app = await startTestApp({ ...fastQueueEnv('processors'), WORKERS_IN_PROCESS: 'true' }, LocalAppModule);
    owner = await signUp(app.baseUrl, 'processors');
  });
  after(async () => {
    await app.close();
  });

  it('one per tenant, written as YAML or JSON, read back as JSON, with manage_account', async () => {
    const yaml = `Mutelist:\n  Accounts:\n    "*":\n      Checks:\n        "account_*":\n          Regions: ["*"]\n          Resources: ["*"]\n          Description: contact details are kept elsewhere\n`;
    const created = await owner.client.post('/api/v1/processors', processorBody(yaml));
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const id = created.body.data.id as string;
    assert.equal(created.body.data.attributes.processor_type, 'mutelist');
    assert.deepEqual(created.body.data.attributes.configuration, {
      Mutelist: { Accounts: { '*': { Checks: { 'account_*': { Regions: ['*'], Resources: ['*'], Description: 'contact details are kept elsewhere' } } } } },
    });

    const second = await owner.client.post('/api/v1/processors', processorBody({ Mutelist: { Accounts: {} } }));
    assert.equal(second.status, 409);

    const listed = await owner.client.get('/api/v1/processors?filter[processor_type]=mutelist');
    assert.equal(listed.status, 200);
    assert.deepEqual(listed.body.data.map((p: { id: string }) => p.id), [id]);
    assert.equal((await owner.client.get(`/api/v1/processors/${id}`)).body.data.id, id);

    const empty = await owner.client.patch(`/api/v1/processors/${id}`, { data: { type: 'processors', id, attributes: {} } });
    assert.equal(empty.status, 400);
    assert.equal(empty.body.errors[0].source.pointer, '/data/attributes/configuration');

    const json = { Mutelist: { Accounts: { '*': { Checks: { iam_root_mfa_enabled: { Regions: ['us-east-1'], Resources: ['*'] } } } } } };
    const patched = await owner.client.patch(`/api/v1/processors/${id}`, patchBody(id, JSON.stringify(json)));
    assert.equal(patched.status, 200, JSON.stringify(patched.body));
    assert.deepEqual(patched.body.data.attributes.configuration, json);

    const member = await memberWith(app.baseUrl, owner, allBut('manage_account'), 'no-account');
    assert.equal((await member.client.get('/api/v1/processors')).status, 403);
    assert.equal((await member.client.post('/api/v1/processors', processorBody(json))).status, 403);

    const other = await signUp(app.baseUrl, 'processors-other');
    assert.equal((await other.client.get(`/api/v1/processors/${id}`)).status, 404, 'another tenant does not see it');
    assert.deepEqual((await other.client.get('/api/v1/processors')).body.data, []);

    assert.equal((await owner.client.delete(`/api/v1/processors/${id}`)).status, 204);
    assert.equal((await owner.client.get(`/api/v1/processors/${id}`)).status, 404);
  });

  it('bad input is 400 with a pointer into the configuration, and nothing is stored', async () => {
    const cases: Array<[unknown, string]> = [
      ['Mutelist: [unclosed', '/data/attributes/configuration'],
      [{ Accounts: {} }, '/data/attributes/configuration/Accounts'],
      [{ Mutelist: { Accounts: { '*': { Checks: { ec2: { Regions: ['*'] } } } } } }, '/data/attributes/configuration/Mutelist/Accounts/*/Checks/ec2'],
      [{ Mutelist: { Accounts: { '*': { Checks: { ec2: { Regions: ['*'], Resources: ['(bad'] } } } } } }, '/data/attributes/configuration/Mutelist/Accounts/*/Checks/ec2/Resources/0'],
      [42, '/data/attributes/configuration'],
    ];
    for (const [configuration, pointer] of cases) {
      const response = await owner.client.post('/api/v1/processors', processorBody(configuration));
      assert.equal(response.status, 400, JSON.stringify(response.body));
      assert.equal(response.body.errors[0].source.pointer, pointer, JSON.stringify(response.body));
    }
    const unknownType = await owner.client.post('/api/v1/processors', processorBody({ Mutelist: { Accounts: {} } }, { processor_type: 'allowlist' }));
    assert.equal(unknownType.status, 400);
    assert.equal(unknownType.body.errors[0].source.pointer, '/data/attributes/processor_type');
    assert.deepEqual((await owner.client.get('/api/v1/processors')).body.data, []);
  });

  it('an import is muted by it as it is stored, and changing it re-mutes the latest findings in a backfill task', async () => {
    // Muted: the tagged accessanalyzer finding (tags and region), account_* in us-east-1 (eu-west-1 excepted).
    const mutelist = {
      Mutelist: {
        Accounts: {
          '*': {
            Checks: {
              accessanalyzer_enabled: { Regions: ['eu-*'], Resources: ['*'], Tags: ['Environment=prod'] },
              'account_.*': { Regions: ['us-east-1'], Resources: ['*'], Exceptions: { Regions: ['eu-west-1'] } },
            },
          },
        },
      },
    };
    const created = await owner.client.post('/api/v1/processors', processorBody(mutelist));
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const processorId = created.body.data.id as string;
    const firstBackfill = await backfillAfter(owner.client, null);
    assert.equal(firstBackfill.attributes.state, 'completed', JSON.stringify(firstBackfill.attributes.result));

    const provider = await awsProvider(owner.client);
    const task = await importAndWait(owner.client, provider.id, taggedFixture(provider.uid));
    assert.equal(task.attributes.state, 'completed', JSON.stringify(task.attributes.result));
    const imported = await latestFindings(owner.client, provider.id);
    assert.deepEqual(Object.fromEntries(imported), {
      accessanalyzer_enabled: { muted: true, muted_reason: REASON },
      account_maintain_current_contact_details: { muted: true, muted_reason: REASON },
      account_maintain_different_contact_details_to_security_billing_and_operations: { muted: false, muted_reason: null },
      account_security_contact_information_is_registered: { muted: true, muted_reason: REASON },
      account_security_questions_are_registered_in_the_aws_account: { muted: false, muted_reason: null },
    });
    const [{ muted }] = await adminRows<{ muted: number }>(
      `SELECT sum(findings)::int AS muted FROM finding_counts WHERE provider_id = $1 AND muted`,
      [provider.id],
    );
    assert.equal(muted, 3, 'the running totals count them muted');

    // Now only the eu-west-1 contact check: two unmuted, one muted, the rest as they were.
    const changed = { Mutelist: { Accounts: { [provider.uid]: { Checks: { account_maintain_different_contact_details_to_security_billing_and_operations: { Regions: ['eu-west-1'], Resources: ['root$'] } } } } } };
    const patched = await owner.client.patch(`/api/v1/processors/${processorId}`, patchBody(processorId, changed));
    assert.equal(patched.status, 200, JSON.stringify(patched.body));
    const backfill = await backfillAfter(owner.client, firstBackfill.id);
    assert.equal(backfill.attributes.state, 'completed', JSON.stringify(backfill.attributes.result));
    assert.equal(backfill.attributes.result.findings_changed, 4);
    const refilled = await latestFindings(owner.client, provider.id);
    assert.deepEqual(
      [...refilled].filter(([, f]) => f.muted).map(([check, f]) => [check, f.muted_reason]),
      [['account_maintain_different_contact_details_to_security_billing_and_operations', REASON]],
    );
    const overview = await owner.client.get(`/api/v1/overviews/findings?filter[provider_id]=${provider.id}`);
    assert.equal(overview.status, 200, JSON.stringify(overview.body));
    assert.equal(overview.body.data.attributes.muted, 1, 'the overview summaries were rebuilt');

    // The same Mutelist again: nothing left to change.
    await owner.client.patch(`/api/v1/processors/${processorId}`, patchBody(processorId, changed));
    const again = await backfillAfter(owner.client, backfill.id);
    assert.equal(again.attributes.result.findings_changed, 0);

    // Removed: what it muted is unmuted.
    assert.equal((await owner.client.delete(`/api/v1/processors/${processorId}`)).status, 204);
    const removed = await backfillAfter(owner.client, again.id);
    assert.equal(removed.attributes.result.findings_changed, 1);
    assert.ok([...(await latestFindings(owner.client, provider.id)).values()].every((f) => !f.muted));
  });
});
