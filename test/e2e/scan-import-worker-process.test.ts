import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { AppModule } from '../../src/app.module';
import { createProvider } from '../support/access-fixtures';
import { SignedUpUser, signUp } from '../support/http-client';
import { fixtureFindings, importAndWait, newSpoolDir } from '../support/scans-fixture';
import { fastQueueEnv, spawnWorker, WorkerProcess } from '../support/tasks-fixture';
import { startTestApp, TestApp } from '../support/test-app';

/**
 * The deployment the spool is for: an API process that only receives the
 * upload, and a worker process of its own (`node dist/src/worker.js`) that
 * ingests it, the two sharing nothing but the database, Redis and SCAN_SPOOL_DIR.
 */
describe('an import received by the API and ingested by a separate worker process', () => {
  let app: TestApp;
  let owner: SignedUpUser;
  let worker: WorkerProcess;
  const env = { ...fastQueueEnv('import-procs'), SCAN_SPOOL_DIR: newSpoolDir('procs') };

  before(async () => {
    app = await startTestApp(env, AppModule);
    owner = await signUp(app.baseUrl, 'import-procs');
    worker = await spawnWorker(env);
  });
  after(async () => {
    if (worker.child.exitCode === null) worker.child.kill('SIGTERM');
    await worker.exited;
    await app.close();
  });

  it('completes the scan, whose findings the API then serves', async () => {
    const providerId = await createProvider(owner.client);
    const task = await importAndWait(owner.client, providerId, gzipSync(JSON.stringify(fixtureFindings())), 60000);
    assert.equal(task.attributes.state, 'completed', `${JSON.stringify(task.attributes.result)}\n${worker.output()}`);
    assert.equal(task.attributes.result.findings, 5);
    const findings = await owner.client.get(`/api/v1/findings?filter[scan]=${task.attributes.task_args.scanId}`);
    assert.equal(findings.body.meta.pagination.count, 5);
  });
});
