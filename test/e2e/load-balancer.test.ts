import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { generateOcsfRecords, writeOcsfJsonArray } from '../../src/scans/ocsf/ocsf-generator';
import { randomAwsUid } from '../support/access-fixtures';
import { ApiProcess, startApiProcess } from '../support/api-process';
import { LoadBalancer, startLoadBalancer } from '../support/haproxy';
import { ApiClient, SignedUpUser, signUp } from '../support/http-client';
import { awsProvider, newSpoolDir, uploadImport } from '../support/scans-fixture';
import { adminRows, fastQueueEnv, pollTask, spawnWorker, taskRow, waitFor, WorkerProcess } from '../support/tasks-fixture';

interface Outcome {
  kind: 'write' | 'read';
  startedAt: number;
  status: number | 'network error';
  providerId?: string;
}

/**
 * The deployment past one process: two API processes and two worker
 * processes behind HAProxy, sharing only PostgreSQL, Redis and the spool.
 * Losing a process loses its in-flight requests or its running job's
 * progress, nothing else.
 */
describe('API and worker processes behind a load balancer', () => {
  const env = { ...fastQueueEnv('balanced'), SCAN_SPOOL_DIR: newSpoolDir('balanced'), LOG_LEVEL: 'warn' };
  const apis: ApiProcess[] = [];
  const workers: WorkerProcess[] = [];
  let balancer: LoadBalancer;
  let owner: SignedUpUser;

  before(async () => {
    apis.push(...(await Promise.all([startApiProcess(env), startApiProcess(env)])));
    workers.push(...(await Promise.all([spawnWorker(env), spawnWorker(env)])));
    balancer = await startLoadBalancer(apis.map((api) => api.baseUrl));
    owner = await signUp(balancer.baseUrl, 'balanced');
  });

  after(async () => {
    await balancer?.stop();
    for (const api of apis) await api.stop();
    for (const worker of workers) {
      if (worker.child.exitCode === null && worker.child.signalCode === null) worker.child.kill('SIGKILL');
      await worker.exited;
    }
    rmSync(env.SCAN_SPOOL_DIR, { recursive: true, force: true });
  });

  /** One client's loop: create a provider, list providers, again, until told to stop. */
  async function client(outcomes: Outcome[], running: () => boolean): Promise<void> {
    const headers = { accept: 'application/vnd.api+json', 'content-type': 'application/vnd.api+json', authorization: `Bearer ${owner.access}` };
    for (let i = 0; running(); i++) {
      const write = i % 2 === 0;
      const startedAt = Date.now();
      try {
        const response = write
          ? await fetch(`${balancer.baseUrl}/api/v1/providers`, {
              method: 'POST',
              headers,
              body: JSON.stringify({ data: { type: 'providers', attributes: { provider: 'aws', uid: randomAwsUid(), alias: 'balanced' } } }),
            })
          : await fetch(`${balancer.baseUrl}/api/v1/providers?page[size]=5`, { headers });
        const body = (await response.json().catch(() => null)) as { data?: { id?: string } } | null;
        outcomes.push({ kind: write ? 'write' : 'read', startedAt, status: response.status, providerId: write && response.status === 201 ? body?.data?.id : undefined });
      } catch {
        outcomes.push({ kind: write ? 'write' : 'read', startedAt, status: 'network error' });
      }
    }
  }

  it('SIGKILL of one API process under load: only its in-flight requests fail, every acknowledged write is stored, the other keeps answering', async () => {
    const concurrency = 8;
    const outcomes: Outcome[] = [];
    let running = true;
    const loops = Array.from({ length: concurrency }, () => client(outcomes, () => running));
    await new Promise((r) => setTimeout(r, 2500));
    // SIGKILL is delivered asynchronously: until the process is gone it may still take a request.
    const died = new Promise<number>((resolve) => apis[0].child.once('exit', () => resolve(Date.now())));
    apis[0].child.kill('SIGKILL');
    const killedAt = await died;
    await new Promise((r) => setTimeout(r, 3000));
    running = false;
    await Promise.all(loops);

    const failed = outcomes.filter((o) => typeof o.status !== 'number' || o.status >= 300);
    const afterKill = outcomes.filter((o) => o.startedAt > killedAt);
    assert.ok(outcomes.filter((o) => o.startedAt < killedAt && o.status === 201).length > 0, 'writes were acknowledged before the kill');
    assert.ok(afterKill.filter((o) => o.kind === 'write' && o.status === 201).length > 0, 'writes are acknowledged after the kill');
    assert.ok(afterKill.filter((o) => o.kind === 'read' && o.status === 200).length > 0, 'reads are answered after the kill');
    // Each client has at most one request in flight: at most that many were cut, all started before the kill.
    assert.ok(failed.length <= concurrency, `failed: ${JSON.stringify(failed)}`);
    for (const failure of failed) {
      assert.ok(failure.startedAt <= killedAt, `a request started ${failure.startedAt - killedAt} ms after the process was gone failed: ${JSON.stringify(failure)}`);
      assert.ok(failure.status === 'network error' || failure.status === 502 || failure.status === 503, `a cut request, not an error of the API: ${JSON.stringify(failure)}`);
    }

    const acknowledged = outcomes.filter((o) => o.providerId).map((o) => o.providerId!);
    const stored = await adminRows<{ id: string }>(`SELECT id FROM providers WHERE id = ANY($1::uuid[])`, [acknowledged]);
    assert.equal(stored.length, acknowledged.length, 'every acknowledged write is stored');
    const list = await new ApiClient(balancer.baseUrl, owner.access).get('/api/v1/providers');
    assert.equal(list.status, 200);
  });

  it('SIGKILL of the worker running an import: the other worker finishes it, once', async () => {
    const { id: providerId, uid } = await awsProvider(new ApiClient(balancer.baseUrl, owner.access));
    const count = 20000;
    const stream = new PassThrough();
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    await writeOcsfJsonArray(generateOcsfRecords({ providerType: 'aws', accountUid: uid, count, seed: 19 }), stream);
    stream.end();

    // The second worker is paused while the import is taken, so the first one runs it.
    const [doomed, survivor] = workers;
    survivor.child.kill('SIGSTOP');
    let accepted;
    try {
      accepted = await uploadImport(new ApiClient(balancer.baseUrl, owner.access), { provider_id: providerId }, gzipSync(Buffer.concat(chunks)));
      assert.equal(accepted.status, 202, JSON.stringify(accepted.body));
      await waitFor('the import to be under way', async () => ((await taskRow(accepted!.body.data.id)).progress > 0 ? true : undefined), 60000);
    } finally {
      survivor.child.kill('SIGCONT');
    }
    doomed.child.kill('SIGKILL');
    await doomed.exited;

    const task = await pollTask(new ApiClient(balancer.baseUrl, owner.access), accepted.body.data.id, 120000);
    assert.equal(task.attributes.state, 'completed', `${JSON.stringify(task.attributes.result)}\n${survivor.output()}\n--- killed worker:\n${doomed.output()}`);
    assert.equal((await taskRow(task.id)).attempts, 2, 'taken up again after the first worker was lost');
    const scanId = task.attributes.task_args.scan_id;
    const [stored] = await adminRows<{ findings: number; distinct_uids: number }>(
      `SELECT count(*)::int AS findings, count(DISTINCT uid)::int AS distinct_uids FROM findings WHERE scan_id = $1`,
      [scanId],
    );
    assert.equal(stored.findings, stored.distinct_uids, 'no finding stored twice');
    assert.equal(stored.findings, task.attributes.result.findings);
    const [resources] = await adminRows<{ n: number }>(
      `SELECT count(DISTINCT l.resource_id)::int AS n FROM findings f JOIN resource_finding_links l ON l.tenant_id = f.tenant_id AND l.finding_id = f.id WHERE f.scan_id = $1`,
      [scanId],
    );
    assert.ok(resources.n > 0);
    assert.equal(task.attributes.result.unique_resource_count, resources.n, 'the scan counts its unique resources');
    const scans = await adminRows(`SELECT id FROM scans WHERE provider_id = $1`, [providerId]);
    assert.equal(scans.length, 1, 'one scan for the import');
  });
});
