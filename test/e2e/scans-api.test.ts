import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { LocalAppModule } from '../../src/local-app.module';
import { createGroup, createProvider, createRole, inviteMember, Member, memberWith } from '../support/access-fixtures';
import { SignedUpUser, signUp } from '../support/http-client';
import { awsProvider, fixtureFindings, importAndWait, newSpoolDir } from '../support/scans-fixture';
import { adminRows, fastQueueEnv, waitForTaskEnd } from '../support/tasks-fixture';
import { startTestApp, TestApp } from '../support/test-app';
import { createRule } from './rls-rules-fixtures';

/**
 * The scans resource: reads with filters, sorting and pages, renames, manual
 * starts (no engine configured here, so they fail honestly), permissions,
 * visibility and row filter rules. Scans are made by importing the fixture.
 */
describe('scans API', () => {
  let app: TestApp;
  let owner: SignedUpUser;
  let aws: string;
  let azure: string;
  let hidden: string;
  const scans: Record<string, string> = {};
  const spoolDir = newSpoolDir('api');

  before(async () => {
    app = await startTestApp({ ...fastQueueEnv('scans-api'), WORKERS_IN_PROCESS: 'true', SCAN_SPOOL_DIR: spoolDir }, LocalAppModule);
    owner = await signUp(app.baseUrl, 'scans-owner');
    const awsProd = await awsProvider(owner.client, 'aws-prod');
    azure = await createProvider(owner.client, 'azure', '8b7a5a9e-6b1e-4c0e-9a43-0e7a8f0f1d2c', 'azure-main');
    const awsHidden = await awsProvider(owner.client, 'aws-hidden');
    [aws, hidden] = [awsProd.id, awsHidden.id];
    for (const [label, provider] of [['aws1', awsProd], ['aws2', awsProd], ['hidden', awsHidden]] as const) {
      const task = await importAndWait(owner.client, provider.id, JSON.stringify(fixtureFindings(provider.uid)));
      assert.equal(task.attributes.state, 'completed', JSON.stringify(task.attributes.result));
      scans[label] = task.attributes.task_args.scan_id;
    }
    const renamed = await owner.client.patch(`/api/v1/scans/${scans.aws2}`, { data: { type: 'scans', id: scans.aws2, attributes: { name: 'Weekly import' } } });
    assert.equal(renamed.status, 200, JSON.stringify(renamed.body));
  });
  after(async () => {
    await app.close();
    rmSync(spoolDir, { recursive: true, force: true });
  });

  const ids = (body: any) => body.data.map((d: any) => d.id);

  it('lists with the contract’s attributes and relationships, newest first, in pages', async () => {
    const listed = await owner.client.get('/api/v1/scans?page[size]=2');
    assert.equal(listed.status, 200);
    assert.deepEqual(listed.body.meta.pagination, { page: 1, pages: 2, count: 3 });
    assert.deepEqual(ids(listed.body), [scans.hidden, scans.aws2]);
    const item = listed.body.data[1];
    assert.deepEqual(Object.keys(item.attributes).sort(), [
      'completed_at', 'duration', 'inserted_at', 'name', 'next_scan_at', 'origin', 'progress', 'scheduled_at', 'started_at', 'state', 'trigger',
      'unique_resource_count',
    ]);
    assert.equal(item.attributes.name, 'Weekly import');
    assert.equal(item.relationships.provider.data.type, 'providers');
    assert.equal(item.relationships.task.data.type, 'tasks');
    const second = await owner.client.get('/api/v1/scans?page[size]=2&page[number]=2');
    assert.deepEqual(ids(second.body), [scans.aws1]);
  });

  it('filters by provider, provider type, uid and alias, trigger, state, name and dates; sorts', async () => {
    const query = async (q: string) => {
      const result = await owner.client.get(`/api/v1/scans?${q}`);
      assert.equal(result.status, 200, `${q}: ${JSON.stringify(result.body)}`);
      return ids(result.body).sort();
    };
    assert.deepEqual(await query(`filter[provider]=${aws}`), [scans.aws1, scans.aws2].sort());
    assert.deepEqual(await query(`filter[provider__in]=${aws},${hidden}`), Object.values(scans).sort());
    assert.deepEqual(await query('filter[provider_type]=azure'), []);
    assert.deepEqual(await query('filter[provider_alias__icontains]=hidden'), [scans.hidden]);
    assert.deepEqual(await query('filter[trigger]=imported&filter[state]=completed'), Object.values(scans).sort());
    assert.deepEqual(await query('filter[state__in]=failed,cancelled'), []);
    assert.deepEqual(await query('filter[name__icontains]=weekly'), [scans.aws2]);
    assert.deepEqual(await query('filter[search]=weekly'), [scans.aws2]);
    const today = new Date().toISOString().slice(0, 10);
    assert.deepEqual(await query(`filter[inserted_at]=${today}`), Object.values(scans).sort());
    assert.deepEqual(await query(`filter[started_at__gte]=${new Date(Date.now() + 3600_000).toISOString()}`), []);
    assert.deepEqual(await query(`filter[completed_at__lte]=${new Date(Date.now() + 3600_000).toISOString()}`), Object.values(scans).sort());

    const byName = await owner.client.get('/api/v1/scans?sort=name,inserted_at&filter[provider]=' + aws);
    assert.deepEqual(ids(byName.body), [scans.aws2, scans.aws1], 'names sort before NULL');
    const oldest = await owner.client.get('/api/v1/scans?sort=inserted_at&page[size]=1');
    assert.deepEqual(ids(oldest.body), [scans.aws1]);
    const sparse = await owner.client.get(`/api/v1/scans/${scans.aws1}?fields[scans]=state,provider&include=provider`);
    assert.deepEqual(Object.keys(sparse.body.data.attributes), ['state']);
    assert.equal(sparse.body.included[0].id, aws);
  });

  it('starts a manual scan with 202 and the task; without an engine it fails and says why', async () => {
    const accepted = await owner.client.post('/api/v1/scans', {
      data: { type: 'scans', attributes: { name: 'by hand' }, relationships: { provider: { data: { type: 'providers', id: azure } } } },
    });
    assert.equal(accepted.status, 202, JSON.stringify(accepted.body));
    assert.equal(accepted.headers.get('content-location'), `/api/v1/tasks/${accepted.body.data.id}`);
    assert.equal(accepted.body.data.attributes.name, 'scan-perform');
    const task = await waitForTaskEnd(accepted.body.data.id);
    assert.equal(task.result.outcome, 'engine_unavailable');
    const scan = await owner.client.get(`/api/v1/scans/${accepted.body.data.attributes.task_args.scan_id}`);
    assert.deepEqual([scan.body.data.attributes.state, scan.body.data.attributes.trigger, scan.body.data.attributes.name], ['failed', 'manual', 'by hand']);
  });

  it('a scheduled scan says when the next one runs (next_scan_at); others do not', async () => {
    const scheduled = await createProvider(owner.client, 'aws', undefined, 'aws-daily');
    const created = await owner.client.post('/api/v1/schedules/daily', { data: { type: 'daily-schedules', attributes: { provider_id: scheduled } } });
    assert.equal(created.status, 202, JSON.stringify(created.body));
    const scan = await owner.client.get(`/api/v1/scans/${created.body.data.attributes.task_args.scan_id}`);
    assert.equal(scan.body.data.attributes.trigger, 'scheduled');
    const schedule = await owner.client.get(`/api/v1/schedules/daily?filter[provider]=${scheduled}`);
    assert.equal(new Date(scan.body.data.attributes.next_scan_at).getTime(), new Date(schedule.body.data[0].attributes.next_run_at).getTime());
    assert.equal((await owner.client.get(`/api/v1/scans/${scans.aws1}`)).body.data.attributes.next_scan_at, null);
    await waitForTaskEnd(created.body.data.id);
  });

  it('needs manage_scans to start or rename (403), not to read', async () => {
    const reader = await memberWith(app.baseUrl, owner, { unlimited_visibility: true }, 'scan-reader');
    assert.equal((await reader.client.get(`/api/v1/scans/${scans.aws1}`)).status, 200);
    const start = await reader.client.post('/api/v1/scans', { data: { type: 'scans', relationships: { provider: { data: { type: 'providers', id: aws } } } } });
    assert.equal(start.status, 403);
    const rename = await reader.client.patch(`/api/v1/scans/${scans.aws1}`, { data: { type: 'scans', id: scans.aws1, attributes: { name: 'nope' } } });
    assert.equal(rename.status, 403);
  });

  it('shows only scans of providers the caller’s role can see: others are 404', async () => {
    const group = await createGroup(owner.client, [aws]);
    const limited: Member = await memberWith(app.baseUrl, owner, { manage_scans: true }, 'scan-limited', [group]);
    const listed = await limited.client.get('/api/v1/scans');
    assert.deepEqual(ids(listed.body).sort(), [scans.aws1, scans.aws2].sort());
    assert.equal((await limited.client.get(`/api/v1/scans/${scans.hidden}`)).status, 404);
    const rename = await limited.client.patch(`/api/v1/scans/${scans.hidden}`, { data: { type: 'scans', id: scans.hidden, attributes: { name: 'mine now' } } });
    assert.equal(rename.status, 404);
    const start = await limited.client.post('/api/v1/scans', { data: { type: 'scans', relationships: { provider: { data: { type: 'providers', id: hidden } } } } });
    assert.equal(start.status, 404);

    const other = await signUp(app.baseUrl, 'scans-stranger');
    assert.equal((await other.client.get(`/api/v1/scans/${scans.aws1}`)).status, 404, 'another tenant sees nothing');
  });

  it('applies row filter rules on the scans dataset: a filtered-out scan is 404', async () => {
    const role = await createRole(owner.client, { unlimited_visibility: true, manage_scans: true }, 'scan-filtered');
    await createRule(owner.client, { clause: `name = 'Weekly import'`, roles: [role], tables: ['scans'] });
    const filtered = await inviteMember(app.baseUrl, owner, [role], 'scan-filtered');
    const listed = await filtered.client.get('/api/v1/scans');
    assert.equal(listed.status, 200, JSON.stringify(listed.body));
    assert.deepEqual(ids(listed.body), [scans.aws2]);
    assert.equal(listed.body.meta.pagination.count, 1);
    assert.equal((await filtered.client.get(`/api/v1/scans/${scans.aws1}`)).status, 404);
    assert.equal((await filtered.client.get(`/api/v1/scans/${scans.aws2}`)).status, 200);
  });

  it('renders a scan that has no task (a row written by hand) with an empty task relationship', async () => {
    const provider = await createProvider(owner.client);
    const [row] = await adminRows<{ id: string }>(
      `INSERT INTO scans (id, tenant_id, provider_id, name, trigger, state) VALUES (gen_random_uuid(), $1, $2, 'legacy', 'manual', 'completed') RETURNING id`,
      [owner.tenantId, provider],
    );
    const scan = await owner.client.get(`/api/v1/scans/${row.id}`);
    assert.equal(scan.status, 200, JSON.stringify(scan.body));
    assert.ok(!scan.body.data.relationships.task?.data, JSON.stringify(scan.body.data.relationships));
  });

  it('answers bad input with JSON:API 4xx errors, never 500', async () => {
    const provider = { provider: { data: { type: 'providers', id: aws } } };
    const cases: Array<[string, () => Promise<{ status: number; body: any }>, number]> = [
      ['unknown filter', () => owner.client.get('/api/v1/scans?filter[bogus]=1'), 400],
      ['bad state', () => owner.client.get('/api/v1/scans?filter[state]=sleeping'), 400],
      ['bad provider id', () => owner.client.get('/api/v1/scans?filter[provider]=nope'), 400],
      ['bad date', () => owner.client.get('/api/v1/scans?filter[inserted_at__gte]=yesterday'), 400],
      ['bad sort', () => owner.client.get('/api/v1/scans?sort=severity'), 400],
      ['bad include', () => owner.client.get('/api/v1/scans?include=findings'), 400],
      ['page too large', () => owner.client.get('/api/v1/scans?page[size]=1000'), 400],
      ['path id not a UUID', () => owner.client.get('/api/v1/scans/not-a-uuid'), 400],
      ['unknown scan', () => owner.client.get('/api/v1/scans/0190e7a0-0000-7000-8000-000000000000'), 404],
      ['no provider', () => owner.client.post('/api/v1/scans', { data: { type: 'scans', attributes: {} } }), 400],
      ['provider null', () => owner.client.post('/api/v1/scans', { data: { type: 'scans', relationships: { provider: { data: null } } } }), 400],
      ['provider id not a UUID', () => owner.client.post('/api/v1/scans', { data: { type: 'scans', relationships: { provider: { data: { type: 'providers', id: 'x' } } } } }), 400],
      ['unknown provider', () => owner.client.post('/api/v1/scans', { data: { type: 'scans', relationships: { provider: { data: { type: 'providers', id: '0190e7a0-0000-7000-8000-000000000000' } } } } }), 404],
      ['wrong type', () => owner.client.post('/api/v1/scans', { data: { type: 'tasks', relationships: provider } }), 409],
      ['name too short', () => owner.client.post('/api/v1/scans', { data: { type: 'scans', attributes: { name: 'x' }, relationships: provider } }), 400],
      ['unknown attribute', () => owner.client.post('/api/v1/scans', { data: { type: 'scans', attributes: { trigger: 'scheduled' }, relationships: provider } }), 400],
      ['not JSON', () => owner.client.request('POST', '/api/v1/scans', '{"data":'), 400],
      ['patch id mismatch', () => owner.client.patch(`/api/v1/scans/${scans.aws1}`, { data: { type: 'scans', id: scans.aws2, attributes: { name: 'abc' } } }), 409],
      ['patch name not a string', () => owner.client.patch(`/api/v1/scans/${scans.aws1}`, { data: { type: 'scans', id: scans.aws1, attributes: { name: 42 } } }), 400],
    ];
    for (const [what, call, status] of cases) {
      const answer = await call();
      assert.equal(answer.status, status, `${what}: ${JSON.stringify(answer.body)}`);
      assert.ok(Array.isArray(answer.body?.errors), what);
    }
  });
});
