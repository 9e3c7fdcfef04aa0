import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AppModule } from '../../src/app.module';
import { LocalAppModule } from '../../src/local-app.module';
import { QueueRegistry } from '../../src/tasks/queue/queue-registry';
import { QUEUE_NAMES } from '../../src/tasks/queue-names';
import { processorToken, QueueProcessor } from '../../src/tasks/worker/queue-processor';
import { fastQueueEnv, waitFor } from '../support/tasks-fixture';
import { startTestApp } from '../support/test-app';

/** Which processes run BullMQ workers, and with which settings. */
describe('queue processors', () => {
  it('the API alone, or with WORKERS_IN_PROCESS=false, only produces: no processor, and no worker on its queues', async () => {
    for (const [modules, env] of [
      [AppModule, fastQueueEnv('procs-api')],
      [LocalAppModule, { ...fastQueueEnv('procs-off'), WORKERS_IN_PROCESS: 'false' }],
    ] as const) {
      const app = await startTestApp(env, modules);
      try {
        const queues = app.app.get(QueueRegistry);
        for (const name of QUEUE_NAMES) {
          // The API alone has no WorkerModule at all; the local composition has it, with null processors.
          if (modules === AppModule) assert.throws(() => app.app.get(processorToken(name)), name);
          else assert.equal(app.app.get(processorToken(name)), null, name);
          assert.equal(await queues.get(name).getWorkersCount(), 0, name);
        }
      } finally {
        await app.close();
      }
    }
  });

  it('with WORKERS_IN_PROCESS=true each queue has one worker, with its concurrency and the lock settings', async () => {
    const env = { ...fastQueueEnv('procs-on'), WORKERS_IN_PROCESS: 'true', QUEUE_CONCURRENCY_SCANS: '3', JOB_LOCK_DURATION_MS: '4321' };
    const app = await startTestApp(env, LocalAppModule);
    try {
      const queues = app.app.get(QueueRegistry);
      for (const name of QUEUE_NAMES) {
        // A worker names its connection once it is up; the count comes from Redis's client list.
        await waitFor(`the ${name} worker to connect`, async () => (await queues.get(name).getWorkersCount()) === 1);
        const worker = app.app.get<QueueProcessor>(processorToken(name)).worker;
        assert.equal(worker.concurrency, app.config.tasks.concurrency[name], name);
        assert.equal(worker.opts.lockDuration, 4321, name);
        assert.equal(worker.opts.prefix, app.config.redis.prefix, name);
      }
      assert.equal(app.app.get<QueueProcessor>(processorToken('scans')).worker.concurrency, 3);
    } finally {
      await app.close();
    }
  });
});
