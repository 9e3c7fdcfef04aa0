import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { LocalAppModule } from '../../src/local-app.module';
import { createGroup, createRole, inviteMember, Member } from '../support/access-fixtures';
import { ApiClient, SignedUpUser, signUp } from '../support/http-client';
import { awsProvider, fixtureFindings, importAndWait, newSpoolDir } from '../support/scans-fixture';
import { fastQueueEnv } from '../support/tasks-fixture';
import { startTestApp, TestApp } from '../support/test-app';

interface Finding {
  id: string;
  attributes: { uid: string; muted: boolean; status: string };
}

/**
 * Two AWS providers whose imported findings carry the same uids (a uid need
 * not name its account), and a member whose role sees only the first: their
 * mute rule must leave the second provider's findings alone, now and after
 * the next import.
 */
describe('mute rules reach only the providers their creator sees', () => {
  let app: TestApp;
  let owner: SignedUpUser;
  let limited: Member;
  let seen: { id: string; uid: string };
  let hidden: { id: string; uid: string };
  const spoolDir = newSpoolDir('mute-scope');

  const importInto = async (provider: { id: string; uid: string }) => {
    const task = await importAndWait(owner.client, provider.id, JSON.stringify(fixtureFindings(provider.uid)));
    assert.equal(task.attributes.state, 'completed', JSON.stringify(task.attributes.result));
    return task.attributes.task_args.scan_id as string;
  };
  const findingsOf = async (client: ApiClient, scanId: string): Promise<Finding[]> => {
    const listed = await client.get(`/api/v1/findings?filter[scan]=${scanId}&page[size]=50`);
    assert.equal(listed.status, 200, JSON.stringify(listed.body));
    return listed.body.data;
  };
  const mutedUids = async (scanId: string) => (await findingsOf(owner.client, scanId)).filter((f) => f.attributes.muted).map((f) => f.attributes.uid).sort();

  before(async () => {
    app = await startTestApp({ ...fastQueueEnv('mute-scope'), WORKERS_IN_PROCESS: 'true', SCAN_SPOOL_DIR: spoolDir }, LocalAppModule);
    owner = await signUp(app.baseUrl, 'mute-scope');
    seen = await awsProvider(owner.client, 'seen');
    hidden = await awsProvider(owner.client, 'hidden');
    const group = await createGroup(owner.client, [seen.id]);
    limited = await inviteMember(app.baseUrl, owner, [await createRole(owner.client, { manage_scans: true }, 'muter', [group])], 'muter');
  });
  after(async () => {
    await app.close();
    rmSync(spoolDir, { recursive: true, force: true });
  });

  it('a limited member’s rule mutes the uid in their provider only, now and in later scans', async () => {
    const [seenScan, hiddenScan] = [await importInto(seen), await importInto(hidden)];
    const target = (await findingsOf(limited.client, seenScan)).find((f) => f.attributes.status === 'FAIL')!;
    assert.ok(target, 'the limited member sees a FAIL finding of their provider');
    assert.deepEqual((await findingsOf(owner.client, hiddenScan)).filter((f) => f.attributes.uid === target.attributes.uid).length, 1, 'the same uid in the hidden provider');

    const rule = await limited.client.post('/api/v1/mute-rules', {
      data: { type: 'mute-rules', attributes: { name: 'accepted here', reason: 'Accepted for the seen account', finding_ids: [target.id] } },
    });
    assert.equal(rule.status, 201, JSON.stringify(rule.body));
    assert.deepEqual(await mutedUids(seenScan), [target.attributes.uid]);
    assert.deepEqual(await mutedUids(hiddenScan), [], 'nothing muted in the provider the member cannot see');

    const [seenNext, hiddenNext] = [await importInto(seen), await importInto(hidden)];
    assert.deepEqual(await mutedUids(seenNext), [target.attributes.uid], 'the rule holds in the next scan of the seen provider');
    assert.deepEqual(await mutedUids(hiddenNext), [], 'and still not in the hidden one');
  });

  it('a rule made by a member who sees every provider mutes the uid in all of them', async () => {
    const [seenScan, hiddenScan] = [await importInto(seen), await importInto(hidden)];
    const target = (await findingsOf(owner.client, seenScan)).find((f) => !f.attributes.muted && f.attributes.status === 'MANUAL')!;
    const rule = await owner.client.post('/api/v1/mute-rules', {
      data: { type: 'mute-rules', attributes: { name: 'accepted everywhere', reason: 'Accepted tenant-wide', finding_ids: [target.id] } },
    });
    assert.equal(rule.status, 201, JSON.stringify(rule.body));
    assert.ok((await mutedUids(seenScan)).includes(target.attributes.uid));
    assert.ok((await mutedUids(hiddenScan)).includes(target.attributes.uid));
    const hiddenNext = await importInto(hidden);
    assert.ok((await mutedUids(hiddenNext)).includes(target.attributes.uid));
  });

  it('includes the rule’s author: yourself always, another member only for a holder of manage_users', async () => {
    const ownersRules = await owner.client.get('/api/v1/mute-rules?include=created_by&sort=inserted_at');
    assert.equal(ownersRules.status, 200, JSON.stringify(ownersRules.body));
    const authors = ownersRules.body.data.map((rule: any) => rule.relationships.created_by.data.id);
    assert.deepEqual(authors, [limited.userId, owner.userId]);
    assert.deepEqual(
      ownersRules.body.included.map((user: any) => [user.type, user.id]).sort(),
      [['users', limited.userId], ['users', owner.userId]].sort(),
      'the owner (manage_users) sees both authors, each once',
    );
    assert.equal(ownersRules.body.included.find((user: any) => user.id === limited.userId).attributes.email, limited.email);

    const limitedRules = await limited.client.get('/api/v1/mute-rules?include=created_by&sort=inserted_at');
    assert.equal(limitedRules.status, 200, JSON.stringify(limitedRules.body));
    assert.deepEqual(limitedRules.body.data.map((rule: any) => rule.relationships.created_by.data.id), [limited.userId, owner.userId]);
    assert.deepEqual(limitedRules.body.included.map((user: any) => user.id), [limited.userId], 'without manage_users only yourself is included');

    const one = await owner.client.get(`/api/v1/mute-rules/${ownersRules.body.data[0].id}?include=created_by&fields[users]=name`);
    assert.equal(one.status, 200, JSON.stringify(one.body));
    assert.deepEqual(Object.keys(one.body.included[0].attributes), ['name']);
    assert.equal((await owner.client.get('/api/v1/mute-rules?include=author')).status, 400);
  });
});
