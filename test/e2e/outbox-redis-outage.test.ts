import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { LocalAppModule } from '../../src/local-app.module';
import { SignedUpUser, signUp } from '../support/http-client';
import { startTestApp, TestApp } from '../support/test-app';
import {
  adminRows,
  CheckServer,
  fastQueueEnv,
  insertProvider,
  inspectQueue,
  OwnRedis,
  ownRedisServer,
  startCheckServer,
  taskRow,
  waitFor,
  waitForTaskEnd,
} from '../support/tasks-fixture';

/**
 * The outbox against a Redis outage: a redis-server of this test's own,
 * stopped and started again on the same port, under an API with its workers.
 */
describe('outbox: nothing lost while Redis is down, nothing run twice', () => {
  let redis: OwnRedis;
  let check: CheckServer;
  let app: TestApp;
  let alice: SignedUpUser;
  const env = fastQueueEnv('outage');

  before(async () => {
    redis = await ownRedisServer();
    await redis.start();
    check = await startCheckServer();
    app = await startTestApp({ ...env, REDIS_URL: redis.url, WORKERS_IN_PROCESS: 'true', CONNECTION_CHECK_URL: check.url }, LocalAppModule);
    alice = await signUp(app.baseUrl, 'outage');
  });
  after(async () => {
    await app.close();
    await check.close();
    await redis.stop();
  });

  async function uidOf(providerId: string): Promise<string> {
    const [row] = await adminRows<{ uid: string }>(`SELECT uid FROM providers WHERE id = $1`, [providerId]);
    return row.uid;
  }

  it('Redis stopped, three 202 requests, Redis started again: all three jobs run, each once', async () => {
    const providers = [await insertProvider(alice.tenantId), await insertProvider(alice.tenantId), await insertProvider(alice.tenantId)];
    await redis.stop();

    const taskIds: string[] = [];
    for (const providerId of providers) {
      const accepted = await alice.client.post(`/api/v1/providers/${providerId}/connection`);
      assert.equal(accepted.status, 202, JSON.stringify(accepted.body));
      taskIds.push(accepted.body.data.id);
    }
    await sleep(500);
    const waiting = await adminRows(`SELECT job_id FROM outbox WHERE job_id = ANY($1)`, [taskIds]);
    assert.equal(waiting.length, 3, 'the jobs wait in the outbox');
    for (const id of taskIds) assert.equal((await taskRow(id)).state, 'available');

    await redis.start();
    for (const id of taskIds) {
      const done = await waitForTaskEnd(id, 20000);
      assert.equal(done.state, 'completed', JSON.stringify(done.result));
      assert.equal(done.attempts, 1);
    }
    assert.equal((await adminRows(`SELECT 1 FROM outbox WHERE job_id = ANY($1)`, [taskIds])).length, 0);
    await sleep(600);
    for (const providerId of providers) assert.equal(check.checks.get(await uidOf(providerId)), 1);
  });

  it('an outbox row relayed again (a relay that crashed before its delete) does not run the job twice', async () => {
    const providerId = await insertProvider(alice.tenantId);
    const taskId = (await alice.client.post(`/api/v1/providers/${providerId}/connection`)).body.data.id;
    assert.equal((await waitForTaskEnd(taskId)).state, 'completed');
    const uid = await uidOf(providerId);
    const integrations = inspectQueue(redis.url, env.REDIS_PREFIX, 'integrations');
    try {
      const replay = async () => {
        await adminRows(
          `INSERT INTO outbox (id, tenant_id, queue_namespace, queue, operation, job_name, job_id, payload, options)
           VALUES (gen_random_uuid(), $1, $2, 'integrations', 'add-job', 'provider-connection-check', $3, $4, '{"attempts":3}')`,
          [alice.tenantId, env.REDIS_PREFIX, taskId, JSON.stringify({ tenantId: alice.tenantId, taskId, args: { providerId } })],
        );
        await waitFor('the replayed row to be relayed', async () => (await adminRows(`SELECT 1 FROM outbox WHERE job_id = $1`, [taskId])).length === 0);
      };
      // The job is still in BullMQ: the same job id is not added again.
      await replay();
      // The job is gone from BullMQ: it is added and runs, and the processor refuses the finished task.
      await integrations.remove(taskId);
      await replay();
      await waitFor('the replayed job to finish', async () => ['completed', 'failed'].includes(await integrations.getJobState(taskId)));
      assert.equal(check.checks.get(uid), 1);
      const row = await taskRow(taskId);
      assert.equal(row.state, 'completed');
      assert.equal(row.attempts, 1);
    } finally {
      await integrations.close();
    }
  });
});
