import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { Queue } from 'bullmq';
import { Cluster } from 'ioredis';
import { LocalAppModule } from '../../src/local-app.module';
import { ApiClient, SignedUpUser, signUp } from '../support/http-client';
import { startRedisCluster, LocalRedisCluster } from '../support/redis-cluster';
import { enqueue, fastQueueEnv, insertProvider, pollTask, waitFor, waitForTaskEnd, waitForTaskState } from '../support/tasks-fixture';
import { startTestApp, TestApp, uniqueEmail } from '../support/test-app';

const run = promisify(execFile);

/**
 * The whole Redis side (BullMQ queues and workers, the outbox relay, the
 * cancel bus, the token throttle, the shared caches) on a local three-master
 * Redis Cluster with a replica per master, started by the test: everything
 * behaves as on one server, and the death of the master serving the
 * deployment's slot ends in its replica taking over, not in lost tasks, 5xx
 * answers or a hanging close.
 */
describe('on a Redis Cluster', () => {
  let cluster: LocalRedisCluster;
  let app: TestApp;
  let alice: SignedUpUser;
  const env = fastQueueEnv('cluster');
  const namespace = `{${env.REDIS_PREFIX}}`;

  const clusterClient = () => new Cluster(cluster.seeds.split(',').map((seed) => ({ host: '127.0.0.1', port: Number(seed.split(':')[1]) })));

  before(async () => {
    cluster = await startRedisCluster();
    app = await startTestApp(
      {
        ...env,
        REDIS_CLUSTER_NODES: cluster.seeds,
        // A URL nothing listens on: every Redis call must go to the cluster.
        REDIS_URL: 'redis://127.0.0.1:1',
        WORKERS_IN_PROCESS: 'true',
        QUEUE_CONCURRENCY_BACKFILL: '2',
        TOKEN_THROTTLE_ACCOUNT_POINTS: '3',
        TOKEN_THROTTLE_WINDOW_SECONDS: '60',
      },
      LocalAppModule,
    );
    alice = await signUp(app.baseUrl, 'cluster');
  });
  after(async () => {
    await app?.close();
    await cluster?.stop();
  });

  const guessPassword = (email: string) =>
    new ApiClient(app.baseUrl).post('/api/v1/tokens', { data: { type: 'tokens', attributes: { email, password: 'Not-The-Password-1' } } });

  it('jobs run, and every key of the deployment lives in the slot of its hash-tagged prefix', async () => {
    const providerId = await insertProvider(alice.tenantId);
    const task = await enqueue(app, alice.tenantId, { name: 'test-probe', args: { providerId, steps: 2, stepMs: 10 } });
    assert.equal((await waitForTaskEnd(task.id)).state, 'completed');

    const master = await cluster.masterOf(namespace);
    const keys = (await run('redis-cli', ['-h', '127.0.0.1', '-p', String(master), '--scan', '--pattern', `${namespace}:*`])).stdout.split('\n').filter(Boolean);
    assert.ok(keys.some((key) => key.startsWith(`${namespace}:backfill:`)), `queue keys on the prefix's master: ${keys.join(', ')}`);
    for (const node of cluster.nodes.filter((n) => n.port !== master)) {
      const elsewhere = (await run('redis-cli', ['-h', '127.0.0.1', '-p', String(node.port), '--scan', '--pattern', `*${env.REDIS_PREFIX}*`])).stdout.trim();
      const role = (await run('redis-cli', ['-h', '127.0.0.1', '-p', String(node.port), 'ROLE'])).stdout.split('\n')[0];
      // A replica holds copies of its master's keys; no other master holds any.
      if (role === 'master') assert.equal(elsewhere, '', `keys on another master (${node.port})`);
    }
  });

  it('an executing task is cancelled through the cancel bus on the cluster', async () => {
    const providerId = await insertProvider(alice.tenantId);
    const long = { providerId, steps: 12, stepMs: 150 };
    const running = await enqueue(app, alice.tenantId, { name: 'test-probe', args: long });
    await waitForTaskState(running.id, 'executing');
    const cancel = await alice.client.delete(`/api/v1/tasks/${running.id}`);
    assert.equal(cancel.status, 202, JSON.stringify(cancel.body));
    const cancelled = await pollTask(alice.client, running.id);
    assert.equal(cancelled.attributes.state, 'cancelled');
    assert.ok(cancelled.attributes.progress < 100);
  });

  it('a daily schedule is a BullMQ job scheduler on the cluster', async () => {
    const providerId = await insertProvider(alice.tenantId);
    const created = await alice.client.post('/api/v1/schedules/daily', { data: { type: 'daily-schedules', attributes: { provider_id: providerId } } });
    assert.equal(created.status, 202, JSON.stringify(created.body));
    const connection = clusterClient();
    const scans = new Queue('scans', { connection, prefix: namespace });
    try {
      const scheduler = await waitFor('the job scheduler', () => scans.getJobScheduler(`daily-scan:${providerId}`));
      assert.equal(Number(scheduler.every), 24 * 60 * 60 * 1000);
    } finally {
      await scans.close();
      await connection.quit();
    }
    assert.equal((await alice.client.post('/api/v1/schedules/daily', { data: { type: 'daily-schedules', attributes: { provider_id: providerId } } })).status, 409);
  });

  it('readiness pings the cluster', async () => {
    const ready = await fetch(`${app.baseUrl}/health/ready`);
    assert.equal(ready.status, 200, await ready.text());
  });

  it('the per-account token throttle counts on the cluster', async () => {
    const email = uniqueEmail('guessed');
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await guessPassword(email)).status);
    assert.deepEqual(statuses, [401, 401, 401, 429, 429]);
  });

  // Last: it kills a master, and ends by closing the app.
  it('when the master of the slot dies its replica takes over: clean answers meanwhile, no 5xx after, every task runs once, and the app closes', async () => {
    const providerId = await insertProvider(alice.tenantId);
    const master = await cluster.masterOf(namespace);
    const replica = await cluster.syncedReplicaOf(master);
    cluster.kill(master);

    // The failover window: the task waits in the outbox; Redis-backed answers are a clean refusal at worst.
    const meanwhile = await enqueue(app, alice.tenantId, { name: 'test-probe', args: { providerId, steps: 1, stepMs: 0 } });
    const anonymous = new ApiClient(app.baseUrl);
    for (const [what, response, allowed] of [
      ['readiness', await anonymous.get('/health/ready'), [200, 503]],
      ['a token request', await guessPassword(uniqueEmail('during')), [401, 503]],
    ] as const) {
      assert.ok((allowed as readonly number[]).includes(response.status), `${what} during the failover: ${response.status} ${JSON.stringify(response.body)}`);
      if (response.status !== 200) assert.ok(Array.isArray(response.body.errors), `${what}: a JSON:API error, ${JSON.stringify(response.body)}`);
    }

    await cluster.waitForPromotion(replica);
    assert.equal(await cluster.masterOf(namespace), replica, 'the replica serves the slot');

    await waitFor('readiness after the failover', async () => (await anonymous.get('/health/ready')).status === 200, 20000);
    const done = await waitForTaskEnd(meanwhile.id, 30000);
    assert.equal(done.state, 'completed', JSON.stringify(done.result));
    assert.equal(done.attempts, 1, 'run once');
    const afterwards = await enqueue(app, alice.tenantId, { name: 'test-probe', args: { providerId, steps: 2, stepMs: 10 } });
    const finished = await waitForTaskEnd(afterwards.id, 30000);
    assert.equal(finished.state, 'completed', JSON.stringify(finished.result));
    assert.equal(finished.attempts, 1);
    // The throttle counts on the promoted master again, every answer a 4xx.
    const email = uniqueEmail('after-failover');
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await guessPassword(email)).status);
    assert.deepEqual(statuses, [401, 401, 401, 429, 429]);
    assert.equal((await anonymous.get('/health/ready')).status, 200);

    // Closing waits for no dead node.
    const closing = app.close();
    app = undefined as unknown as TestApp;
    const closed = await Promise.race([closing.then(() => true), sleep(15000).then(() => false)]);
    assert.ok(closed, 'the app closed within 15 s');
  });
});
