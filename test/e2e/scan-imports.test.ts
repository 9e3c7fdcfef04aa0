import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip, gzipSync } from 'node:zlib';
import { LocalAppModule } from '../../src/local-app.module';
import { SpoolJanitor } from '../../src/scans/spool/spool-janitor';
import { generateOcsfRecords, writeOcsfJsonArray } from '../../src/scans/ocsf/ocsf-generator';
import { createProvider, memberWith } from '../support/access-fixtures';
import { JSONAPI, SignedUpUser, signUp } from '../support/http-client';
import { awsProvider, fixtureFindings, importAndWait, newSpoolDir, uploadImport } from '../support/scans-fixture';
import { adminRows, fastQueueEnv, inspectQueue, waitFor, waitForTaskEnd } from '../support/tasks-fixture';
import { startTestApp, TestApp } from '../support/test-app';

const MAX_BYTES = 4 * 1024 * 1024;
const MAX_DECOMPRESSED_BYTES = 24 * 1024 * 1024;
const MAX_RECORD_BYTES = 1024 * 1024;

/** A gzip of `head`, then `body(i)` for i below `times`, then `tail`, compressed as it is produced: the test never holds the whole text. */
async function gzipOfRepeated(head: string, body: (i: number) => string, times: number, tail: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  await pipeline(
    (function* () {
      yield Buffer.from(head);
      for (let i = 0; i < times; i++) yield Buffer.from(body(i));
      yield Buffer.from(tail);
    })(),
    createGzip({ level: 9 }),
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        chunks.push(chunk);
        done();
      },
    }),
  );
  return Buffer.concat(chunks);
}

/**
 * OCSF imports end to end: multipart upload through the HTTP API, the
 * `scan-import` job in the API process's own workers, ingestion into the
 * real database, and the reads and overviews that show the result.
 */
describe('scan imports', () => {
  let app: TestApp;
  let owner: SignedUpUser;
  const spoolDir = newSpoolDir('imports');
  const env = fastQueueEnv('scan-imports');

  before(async () => {
    app = await startTestApp(
      {
        ...env,
        WORKERS_IN_PROCESS: 'true',
        SCAN_SPOOL_DIR: spoolDir,
        SCAN_IMPORT_MAX_BYTES: String(MAX_BYTES),
        SCAN_IMPORT_MAX_DECOMPRESSED_BYTES: String(MAX_DECOMPRESSED_BYTES),
        SCAN_RECORD_MAX_BYTES: String(MAX_RECORD_BYTES),
        // Small batches: an import crosses many batch boundaries, where a cancel is seen.
        SCAN_INGESTION_BATCH_SIZE: '500',
      },
      LocalAppModule,
    );
    owner = await signUp(app.baseUrl, 'importer');
  });
  after(async () => {
    await app.close();
    rmSync(spoolDir, { recursive: true, force: true });
  });

  const spoolFiles = () => (existsSync(join(spoolDir, 'imports')) ? readdirSync(join(spoolDir, 'imports')) : []);
  const fixture = (accountUid?: string) => JSON.stringify(fixtureFindings(accountUid));

  async function scanOfTask(task: Record<string, any>) {
    const scan = await owner.client.get(`/api/v1/scans/${task.attributes.task_args.scan_id}`);
    assert.equal(scan.status, 200, JSON.stringify(scan.body));
    return scan.body.data;
  }

  async function visibleCounts(providerId: string) {
    const findings = await owner.client.get(`/api/v1/findings?filter[provider]=${providerId}`);
    const resources = await owner.client.get(`/api/v1/resources?filter[provider]=${providerId}`);
    assert.equal(findings.status, 200, JSON.stringify(findings.body));
    assert.equal(resources.status, 200, JSON.stringify(resources.body));
    return { findings: findings.body.meta.pagination.count, resources: resources.body.meta.pagination.count };
  }

  it('imports Prowler’s example output: the scan completes, its findings and resources show, the overviews fill', async () => {
    const { id: providerId, uid } = await awsProvider(owner.client);
    const accepted = await uploadImport(owner.client, { provider_id: providerId, name: 'imported example' }, fixture(uid));
    assert.equal(accepted.status, 202, JSON.stringify(accepted.body));
    assert.equal(accepted.headers.get('content-type'), JSONAPI);
    assert.equal(accepted.headers.get('content-location'), `/api/v1/tasks/${accepted.body.data.id}`);
    assert.equal(accepted.body.data.attributes.name, 'scan-import');

    const task = await waitForTaskEnd(accepted.body.data.id, 30000);
    assert.equal(task.state, 'completed', JSON.stringify(task.result));
    assert.deepEqual(
      { findings: task.result.findings, unique: task.result.unique_resource_count, skipped: task.result.records_skipped, read: task.result.records_read },
      { findings: 5, unique: 2, skipped: 0, read: 5 },
    );

    const scan = await owner.client.get(`/api/v1/scans/${task.task_args.scanId}?include=provider`);
    assert.equal(scan.status, 200);
    const attributes = scan.body.data.attributes;
    assert.equal(attributes.trigger, 'manual');
    assert.equal(attributes.origin, 'imported');
    assert.equal(attributes.state, 'completed');
    assert.equal(attributes.progress, 100);
    assert.equal(attributes.unique_resource_count, 2);
    assert.equal(attributes.name, 'imported example');
    assert.ok(attributes.started_at && attributes.completed_at);
    assert.equal(scan.body.data.relationships.provider.data.id, providerId);
    assert.equal(scan.body.data.relationships.task.data.id, task.id);
    assert.equal(scan.body.included[0].id, providerId);

    const findings = await owner.client.get(`/api/v1/findings?filter[scan]=${task.task_args.scanId}&page[size]=50`);
    assert.deepEqual(
      findings.body.data.map((f: any) => f.attributes.uid).sort(),
      fixtureFindings().map((f) => f.finding_info.uid).sort(),
    );
    assert.deepEqual(await visibleCounts(providerId), { findings: 5, resources: 2 });

    // The follow-up overview job, enqueued with the completion, fills the summaries the overviews read.
    const overviewTask = await waitFor('the scan-overview task', async () => {
      const [row] = await adminRows(`SELECT id, state FROM tasks WHERE name = 'scan-overview' AND task_args->>'scanId' = $1`, [task.task_args.scanId]);
      return row?.state === 'completed' ? row : undefined;
    }, 20000);
    assert.ok(overviewTask);
    const overview = await owner.client.get(`/api/v1/overviews/findings?filter[provider]=${providerId}`);
    assert.equal(overview.status, 200, JSON.stringify(overview.body));
    assert.equal(overview.body.data.attributes.total, 5);
    assert.equal(overview.body.data.attributes.fail, 2, 'the fixture holds two FAIL findings and three MANUAL ones');
    assert.deepEqual(spoolFiles(), [], 'the upload is removed once ingested');
  });

  it('takes a gzipped file, recognised by its magic bytes', async () => {
    const { id: providerId, uid } = await awsProvider(owner.client);
    const task = await importAndWait(owner.client, providerId, gzipSync(Buffer.from(fixture(uid))));
    assert.equal(task.attributes.state, 'completed', JSON.stringify(task.attributes.result));
    assert.equal(task.attributes.result.findings, 5);
    assert.deepEqual(await visibleCounts(providerId), { findings: 5, resources: 2 });
  });

  it('takes a plain file of several megabytes, beyond the JSON body limit', async () => {
    const { id: providerId, uid } = await awsProvider(owner.client);
    const records = [...generateOcsfRecords({ providerType: 'aws', accountUid: uid, count: 1200, seed: 11 })];
    const file = Buffer.from(JSON.stringify(records));
    assert.ok(file.length > app.config.http.bodyLimitBytes * 2 && file.length < MAX_BYTES, `${file.length} bytes`);
    const task = await importAndWait(owner.client, providerId, file, 60000);
    assert.equal(task.attributes.state, 'completed', JSON.stringify(task.attributes.result));
    assert.equal(task.attributes.result.findings, 1200);
    assert.equal((await visibleCounts(providerId)).findings, 1200);
  });

  it('takes records missing optional fields, and counts and reports records missing required ones', async () => {
    const { id: providerId, uid } = await awsProvider(owner.client);
    const records = fixtureFindings(uid);
    delete records[0].finding_info.title;
    delete records[0].status_detail;
    delete records[0].unmapped;
    delete records[1].finding_info.uid;
    delete records[2].metadata.event_code;
    const task = await importAndWait(owner.client, providerId, JSON.stringify(records));
    assert.equal(task.attributes.state, 'completed', JSON.stringify(task.attributes.result));
    const result = task.attributes.result;
    assert.equal(result.findings, 3);
    assert.equal(result.records_skipped, 2);
    assert.deepEqual(result.skipped_records.map((r: any) => r.index), [1, 2]);
    assert.match(result.skipped_records[0].problems.join(), /finding_info\.uid is missing/);
    assert.match(result.skipped_records[1].problems.join(), /event_code/);
    assert.equal((await visibleCounts(providerId)).findings, 3);
  });

  it('a job run again after its scan was stored (its worker lost after the commit) adds nothing twice', async () => {
    const { id: providerId, uid } = await awsProvider(owner.client);
    const first = await importAndWait(owner.client, providerId, fixture(uid));
    assert.equal(first.attributes.state, 'completed');
    // As if the worker died between committing the scan and settling its task: BullMQ hands the job out again.
    await adminRows(`UPDATE tasks SET state = 'executing', completed_at = NULL, result = NULL WHERE id = $1`, [first.id]);
    const [{ task_args: jobArgs }] = await adminRows<{ task_args: unknown }>(`SELECT task_args FROM tasks WHERE id = $1`, [first.id]);
    const queue = inspectQueue(app.config.redis.url, env.REDIS_PREFIX, 'scans');
    try {
      await queue.add('scan-import', { tenantId: owner.tenantId, taskId: first.id, args: jobArgs }, { jobId: `again-${first.id}` });
    } finally {
      await queue.close();
    }
    const again = await waitForTaskEnd(first.id, 30000);
    assert.equal(again.state, 'completed', JSON.stringify(again.result));
    assert.match(again.result.note, /already been stored/);
    assert.deepEqual(await visibleCounts(providerId), { findings: 5, resources: 2 });
    const [overviews] = await adminRows<{ n: number }>(`SELECT count(*)::int AS n FROM tasks WHERE name = 'scan-overview' AND task_args->>'scanId' = $1`, [
      first.attributes.task_args.scan_id,
    ]);
    assert.equal(overviews.n, 1, 'one follow-up per scan');
  });

  it('takes a scan without findings (Prowler leaves the file empty, or writes [])', async () => {
    for (const empty of ['', '[]\n']) {
      const providerId = await createProvider(owner.client);
      const task = await importAndWait(owner.client, providerId, empty);
      assert.equal(task.attributes.state, 'completed', JSON.stringify(task.attributes.result));
      assert.equal(task.attributes.result.findings, 0);
      assert.equal((await scanOfTask(task)).attributes.state, 'completed');
    }
  });

  for (const bad of [
    { kind: 'not JSON', content: () => 'this is not json at all', reason: /Not a JSON file/ },
    { kind: 'JSON but not OCSF', content: () => JSON.stringify([{ hello: 'world' }, { class_uid: 1001 }]), reason: /record 0 \(line 1\): not an OCSF Detection Finding/ },
    {
      kind: 'records of another provider type',
      content: (accountUid: string) => {
        const records = fixtureFindings(accountUid);
        records[3].cloud.provider = 'azure';
        return JSON.stringify(records, null, 1);
      },
      reason: /record 3 'prowler-aws-account_security_contact[^']*' \(line \d+\): provider type 'azure', expected 'aws'/,
    },
    {
      kind: 'records of another account than the provider’s',
      content: (accountUid: string) => {
        const records = fixtureFindings(accountUid);
        records[2].cloud.account.uid = '999999999999';
        return JSON.stringify(records, null, 1);
      },
      reason: /record 2 '[^']*' \(line \d+\): account '999999999999', expected '\d{12}'/,
    },
  ]) {
    it(`fails a file that is ${bad.kind} with a reason naming it, and leaves nothing visible`, async () => {
      const { id: providerId, uid } = await awsProvider(owner.client);
      const task = await importAndWait(owner.client, providerId, bad.content(uid));
      assert.equal(task.attributes.state, 'failed');
      assert.equal(task.attributes.result.outcome, 'invalid_file');
      assert.match(task.attributes.result.error, bad.reason);
      const scan = await scanOfTask(task);
      assert.equal(scan.attributes.state, 'failed');
      assert.deepEqual(await visibleCounts(providerId), { findings: 0, resources: 0 });
      assert.deepEqual(spoolFiles(), []);
    });
  }

  it('a bad record after thousands of good ones rolls the whole import back: no half-written scan', async () => {
    const { id: providerId, uid } = await awsProvider(owner.client);
    const stream = new PassThrough();
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    const good = [...generateOcsfRecords({ providerType: 'aws', accountUid: uid, count: 4500, seed: 7 })];
    const badOne = { ...fixtureFindings(uid)[0], cloud: { ...fixtureFindings(uid)[0].cloud, provider: 'gcp' } };
    await writeOcsfJsonArray([...good, badOne], stream);
    stream.end();
    const task = await importAndWait(owner.client, providerId, gzipSync(Buffer.concat(chunks)), 60000);
    assert.equal(task.attributes.state, 'failed');
    assert.match(task.attributes.result.error, /record 4500 .*provider type 'gcp', expected 'aws'/);
    assert.deepEqual(await visibleCounts(providerId), { findings: 0, resources: 0 });
    const [stored] = await adminRows<{ n: number }>(`SELECT count(*)::int AS n FROM findings WHERE provider_id = $1`, [providerId]);
    assert.equal(stored.n, 0, 'nothing was written, not merely hidden');
  });

  it('a cancel while the file is being ingested stops it: task and scan end cancelled, nothing is kept', async () => {
    const { id: providerId, uid } = await awsProvider(owner.client);
    // Within every size limit, so that only the cancel can end it early (a file past SCAN_IMPORT_MAX_DECOMPRESSED_BYTES
    // raced the cancel: it failed at the limit when the reader got there first).
    const json = Buffer.from(JSON.stringify([...generateOcsfRecords({ providerType: 'aws', accountUid: uid, count: 9000, seed: 21 })]));
    assert.ok(json.length < MAX_DECOMPRESSED_BYTES, `${json.length} bytes decompressed`);
    const file = gzipSync(json);
    assert.ok(file.length < MAX_BYTES, `${file.length} bytes`);
    const accepted = await uploadImport(owner.client, { provider_id: providerId }, file);
    assert.equal(accepted.status, 202, JSON.stringify(accepted.body));
    const taskId = accepted.body.data.id;
    // Cancelled once its first batches are written, well before the last.
    await waitFor('the import to be under way', async () => {
      const [task] = await adminRows<{ progress: number | null; state: string }>(`SELECT progress, state FROM tasks WHERE id = $1`, [taskId]);
      assert.notEqual(task.state, 'completed', 'the import ended before it could be cancelled');
      return (task.progress ?? 0) > 0 ? task : undefined;
    }, 30000);
    const cancelled = await owner.client.delete(`/api/v1/tasks/${taskId}`);
    assert.equal(cancelled.status, 202, JSON.stringify(cancelled.body));

    const task = await waitForTaskEnd(taskId, 30000);
    assert.equal(task.state, 'cancelled', JSON.stringify(task.result));
    // A task row as stored: its job arguments in the handlers' camelCase.
    const scan = await scanOfTask({ attributes: { task_args: { scan_id: task.task_args.scanId } } });
    assert.equal(scan.attributes.state, 'cancelled');
    const [stored] = await adminRows<{ n: number }>(`SELECT count(*)::int AS n FROM findings WHERE provider_id = $1`, [providerId]);
    assert.equal(stored.n, 0, 'the batches written before the cancel were rolled back');
    await waitFor('the upload to be removed', async () => (spoolFiles().length === 0 ? true : undefined), 10000);
  });

  it('a small gzip of one huge record fails at SCAN_RECORD_MAX_BYTES, keeping nothing, and the worker lives on', async () => {
    const { id: providerId, uid } = await awsProvider(owner.client);
    const record = fixtureFindings(uid)[0];
    // One record of 256 MiB: a valid finding whose message never ends.
    const head = `[${JSON.stringify({ ...record, message: undefined }).slice(0, -1)},"message":"`;
    const megabyte = 'A'.repeat(1024 * 1024);
    const file = await gzipOfRepeated(head, () => megabyte, 256, '"}]');
    assert.ok(file.length < MAX_BYTES / 4, `${file.length} bytes compressed`);
    const task = await importAndWait(owner.client, providerId, file, 60000);
    assert.equal(task.attributes.state, 'failed');
    assert.equal(task.attributes.result.outcome, 'invalid_file');
    assert.match(task.attributes.result.error, /Record 0 \(line 1\) is longer than 1048576 characters \(SCAN_RECORD_MAX_BYTES\)/);
    assert.equal((await scanOfTask(task)).attributes.state, 'failed');
    const [stored] = await adminRows<{ n: number }>(`SELECT count(*)::int AS n FROM findings WHERE provider_id = $1`, [providerId]);
    assert.equal(stored.n, 0);
    assert.deepEqual(spoolFiles(), []);
    const next = await importAndWait(owner.client, providerId, fixture(uid));
    assert.equal(next.attributes.state, 'completed', 'the worker still imports');
  });

  it('a gzip bomb of many small records fails at SCAN_IMPORT_MAX_DECOMPRESSED_BYTES after batches were written, keeping nothing', async () => {
    const { id: providerId, uid } = await awsProvider(owner.client);
    const records = [...generateOcsfRecords({ providerType: 'aws', accountUid: uid, count: 1, seed: 3 })];
    // The same finding under a new uid each time: every record valid, and the text compresses to almost nothing.
    const one = JSON.stringify(records[0]);
    const uidOfOne = (records[0] as { finding_info: { uid: string } }).finding_info.uid;
    const parts = one.split(uidOfOne);
    const times = Math.ceil((MAX_DECOMPRESSED_BYTES * 1.5) / (one.length + 8));
    const file = await gzipOfRepeated(`[${one}`, (i) => `,${parts.join(`${uidOfOne}-${i}`)}`, times, ']');
    assert.ok(file.length < MAX_BYTES, `${file.length} bytes compressed`);
    const task = await importAndWait(owner.client, providerId, file, 120000);
    assert.equal(task.attributes.state, 'failed', JSON.stringify(task.attributes.result));
    assert.equal(task.attributes.result.outcome, 'invalid_file');
    assert.match(task.attributes.result.error, /larger than 25165824 bytes once decompressed \(SCAN_IMPORT_MAX_DECOMPRESSED_BYTES\)/);
    const [stored] = await adminRows<{ n: number }>(`SELECT count(*)::int AS n FROM findings WHERE provider_id = $1`, [providerId]);
    assert.equal(stored.n, 0);
    assert.deepEqual(await visibleCounts(providerId), { findings: 0, resources: 0 });
  });

  it('answers 413 for a file over SCAN_IMPORT_MAX_BYTES, and keeps none of it', async () => {
    const providerId = await createProvider(owner.client);
    // Just over the limit, the stream is cut as it passes it; far over, the declared Content-Length is refused before any byte is read.
    for (const size of [MAX_BYTES + 1024, MAX_BYTES + 512 * 1024]) {
      const refused = await uploadImport(owner.client, { provider_id: providerId }, Buffer.alloc(size, 0x20));
      assert.equal(refused.status, 413, JSON.stringify(refused.body));
      assert.equal(refused.body.errors[0].code, 'payload_too_large');
      assert.match(refused.body.errors[0].detail, /SCAN_IMPORT_MAX_BYTES/);
    }
    const scans = await owner.client.get(`/api/v1/scans?filter[provider]=${providerId}`);
    assert.equal(scans.body.data.length, 0);
    assert.deepEqual(spoolFiles(), []);
  });

  it('the spool janitor removes left-over uploads and run directories, never an upload whose import still waits', async () => {
    const dayAgo = new Date(Date.now() - 24 * 3600_000);
    const put = (name: string, old: boolean) => {
      const path = join(spoolDir, 'imports', name);
      writeFileSync(path, '[]');
      if (old) utimesSync(path, dayAgo, dayAgo);
    };
    mkdirSync(join(spoolDir, 'imports'), { recursive: true });
    const [orphan, partial, waiting, young] = [randomUUID(), randomUUID(), randomUUID(), randomUUID()];
    put(`${orphan}.ocsf`, true);
    put(`${partial}.ocsf.part`, true);
    put(`${waiting}.ocsf`, true);
    put(`${young}.ocsf`, false);
    // An import task that has not run yet (its scan queued behind another): its upload must stay. Its queue
    // namespace is none of this run's, so no relay or sweep of this test touches it.
    await adminRows(
      `INSERT INTO tasks (id, tenant_id, name, queue, queue_namespace, state, task_args) VALUES ($1, $2, 'scan-import', 'scans', 'unused', 'available', $3)`,
      [randomUUID(), owner.tenantId, JSON.stringify({ uploadId: waiting })],
    );
    const deadRun = join(spoolDir, 'runs', `${randomUUID()}-abc123`);
    mkdirSync(deadRun, { recursive: true });
    utimesSync(deadRun, new Date(0), new Date(0));

    const removed = await app.app.get(SpoolJanitor).sweep();
    assert.deepEqual(removed.sort(), [orphan, partial, deadRun.split('/').pop()!].sort());
    assert.deepEqual(spoolFiles().sort(), [`${waiting}.ocsf`, `${young}.ocsf`].sort());
    for (const id of [waiting, young]) rmSync(join(spoolDir, 'imports', `${id}.ocsf`));
  });

  async function rawForm(contentType: string, body: string) {
    const response = await fetch(`${app.baseUrl}/api/v1/scans/imports`, {
      method: 'POST',
      headers: { authorization: `Bearer ${owner.access}`, 'content-type': contentType },
      body,
    });
    return { status: response.status, body: await response.json().catch(() => undefined) };
  }

  it('refuses bad forms with 4xx, never 500', async () => {
    const providerId = await createProvider(owner.client);
    const cases: Array<[string, Promise<{ status: number; body: any }>, number]> = [
      ['no provider_id', uploadImport(owner.client, {}, fixture()), 400],
      ['provider_id not a UUID', uploadImport(owner.client, { provider_id: 'nope' }, fixture()), 400],
      ['no file', uploadImport(owner.client, { provider_id: providerId }), 400],
      ['file under another field', uploadImport(owner.client, { provider_id: providerId }, fixture(), { fileField: 'upload' }), 400],
      ['a name too short', uploadImport(owner.client, { provider_id: providerId, name: 'x' }, fixture()), 400],
      ['an unknown provider', uploadImport(owner.client, { provider_id: '0190e7a0-0000-7000-8000-000000000000' }, fixture()), 404],
      ['a JSON body', owner.client.post('/api/v1/scans/imports', { data: { type: 'scans' } }), 415],
      ['multipart without a boundary', rawForm('multipart/form-data', 'provider_id=x'), 400],
      ['a form cut off', rawForm('multipart/form-data; boundary=cut', `--cut\r\nContent-Disposition: form-data; name="file"; filename="a.json"\r\n\r\n[{"a":`), 400],
    ];
    for (const [what, response, status] of cases) {
      const answer = await response;
      assert.equal(answer.status, status, `${what}: ${JSON.stringify(answer.body)}`);
      assert.ok(answer.body.errors?.[0]?.detail, what);
    }
    assert.deepEqual(spoolFiles(), []);
  });

  it('needs manage_scans (403 before the body is read) and a provider the caller can see (404)', async () => {
    const { id: providerId, uid } = await awsProvider(owner.client);
    const reader = await memberWith(app.baseUrl, owner, { unlimited_visibility: true }, 'reader');
    const refused = await uploadImport(reader.client, { provider_id: providerId }, fixture(uid));
    assert.equal(refused.status, 403, JSON.stringify(refused.body));

    // The provider is checked before the file is read when the form names it first, and after the file otherwise.
    const blind = await memberWith(app.baseUrl, owner, { manage_scans: true }, 'blind');
    for (const fileFirst of [false, true]) {
      const hidden = await uploadImport(blind.client, { provider_id: providerId }, fixture(), { fileFirst });
      assert.equal(hidden.status, 404, JSON.stringify(hidden.body));
    }
    assert.deepEqual(spoolFiles(), []);

    const late = await uploadImport(owner.client, { provider_id: providerId }, fixture(uid), { fileFirst: true });
    assert.equal(late.status, 202, 'fields after the file are read too');
    assert.equal((await waitForTaskEnd(late.body.data.id, 30000)).state, 'completed');
  });
});
