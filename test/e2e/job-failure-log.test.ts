import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { LocalAppModule } from '../../src/local-app.module';
import { signUp, SignedUpUser } from '../support/http-client';
import { LogCapture } from '../support/log-capture';
import { enqueue, fastQueueEnv, insertProvider, waitFor, waitForTaskEnd } from '../support/tasks-fixture';
import { startTestApp, TestApp } from '../support/test-app';

/** A background job that fails says so in the log: which task, tenant and job, and why, in fields; never its arguments or error text. */
describe('job failures in the log', () => {
  let app: TestApp;
  let alice: SignedUpUser;
  const logs = new LogCapture();

  before(async () => {
    app = await startTestApp({ ...fastQueueEnv('failure-log'), WORKERS_IN_PROCESS: 'true', LOG_LEVEL: 'info' }, LocalAppModule, logs);
    alice = await signUp(app.baseUrl, 'failure-log');
  });
  after(async () => app.close());

  it('a failed job logs task id, tenant id, job name and error code', async () => {
    const providerId = await insertProvider(alice.tenantId);
    const task = await enqueue(app, alice.tenantId, { name: 'test-probe', args: { providerId, steps: 1, stepMs: 1, failPermanently: true } });
    assert.equal((await waitForTaskEnd(task.id)).state, 'failed');
    const line = await waitFor('the failure log line', async () => logs.parsed().find((entry) => entry.msg === 'job failed' && entry.task_id === task.id));
    assert.equal(line.level, 40, 'a warning');
    assert.equal(line.tenant_id, alice.tenantId);
    assert.equal(line.job, 'test-probe');
    assert.equal(line.code, 'UnrecoverableError');
    assert.equal(line.final, true);
    const text = JSON.stringify(line);
    assert.ok(!text.includes(providerId), 'no job argument is logged');
    assert.ok(!text.includes('on purpose'), 'no error text is logged');
  });

  it('a job that ends with a named outcome logs that outcome as its code', async () => {
    const task = await enqueue(app, alice.tenantId, { name: 'test-probe', args: { providerId: '00000000-0000-4000-8000-000000000000', steps: 1, stepMs: 1 } });
    const ended = await waitForTaskEnd(task.id);
    assert.equal(ended.state, 'failed');
    const line = await waitFor('the failure log line', async () => logs.parsed().find((entry) => entry.msg === 'job failed' && entry.task_id === task.id));
    assert.equal(line.code, ended.result.outcome);
  });
});
