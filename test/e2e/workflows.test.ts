import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { TenantDatabase } from '../../src/database/tenant-database';
import { LocalAppModule } from '../../src/local-app.module';
import { deterministicId } from '../../src/tasks/jobs/deterministic-id';
import { JobRequest, ProbeArguments } from '../../src/tasks/jobs/job-definitions';
import { AFTER_SCAN_WORKFLOW } from '../../src/tasks/jobs/workflows';
import { TaskRow } from '../../src/tasks/task.resource';
import { WorkflowStarter } from '../../src/tasks/workflows/workflow-starter';
import { SignedUpUser, signUp } from '../support/http-client';
import { awsProvider, fixtureFindings, importAndWait } from '../support/scans-fixture';
import { adminRows, fastQueueEnv, insertProvider, waitForTaskEnd } from '../support/tasks-fixture';
import { startTestApp, TestApp } from '../support/test-app';

/**
 * Workflows end to end: the API and its workers in one process, real
 * PostgreSQL and Redis. Test-only probe jobs make a step slow or failing;
 * the after-scan workflow runs on a real import.
 */
describe('workflows: chained groups of tasks', () => {
  let app: TestApp;
  let alice: SignedUpUser;

  before(async () => {
    app = await startTestApp({ ...fastQueueEnv('workflows'), WORKERS_IN_PROCESS: 'true', QUEUE_CONCURRENCY_BACKFILL: '4' }, LocalAppModule);
    alice = await signUp(app.baseUrl, 'alice');
  });
  after(async () => {
    await app.close();
  });

  /** Starts probe stages as one workflow in a tenant transaction; ids derive from `label` and the step's place. */
  function startProbes(label: string, stages: ProbeArguments[][]): Promise<TaskRow[][]> {
    const requests: JobRequest[][] = stages.map((stage) => stage.map((args) => ({ name: 'test-probe', args })));
    const places = new Map(requests.flatMap((stage, s) => stage.map((request, j) => [request, `${s}.${j}`] as const)));
    return app.app.get(TenantDatabase).transaction(alice.tenantId, () =>
      app.app.get(WorkflowStarter).start(requests, (request) => deterministicId('workflow-test', label, places.get(request)!)),
    );
  }

  const time = (value: Date | string) => new Date(value).getTime();

  it('a stage starts only once every step of the one before has completed, however slow one of them is', async () => {
    const providerId = await insertProvider(alice.tenantId);
    const quick = { providerId, steps: 1, stepMs: 0 };
    const stages = await startProbes('order', [[{ providerId, steps: 4, stepMs: 400 }, quick], [quick], [quick]]);
    const ended = await Promise.all(stages.map((stage) => Promise.all(stage.map((task) => waitForTaskEnd(task.id, 30000)))));

    for (const stage of ended) for (const task of stage) assert.equal(task.state, 'completed', JSON.stringify(task.result));
    const [[slow, fast], [second], [third]] = ended;
    // The quick sibling did not wait for the slow one: a group runs side by side.
    assert.ok(time(fast.completed_at) < time(slow.completed_at), 'the quick step of the first group finished first');
    assert.ok(time(second.started_at) >= time(slow.completed_at), 'the second stage started after the slow step completed');
    assert.ok(time(third.started_at) >= time(second.completed_at), 'the third stage started after the second completed');

    const dependencies = await adminRows<{ task_id: string; depends_on: string }>(
      `SELECT task_id, depends_on FROM task_dependencies WHERE task_id = ANY($1::uuid[]) ORDER BY task_id, depends_on`,
      [[second.id, third.id]],
    );
    assert.deepEqual(
      dependencies.map((d) => `${d.task_id}>${d.depends_on}`).sort(),
      [`${second.id}>${slow.id}`, `${second.id}>${fast.id}`, `${third.id}>${second.id}`].sort(),
    );
  });

  it('a failed step stops only the steps that depend on it; its siblings and other workflows carry on', async () => {
    const providerId = await insertProvider(alice.tenantId);
    const quick = { providerId, steps: 1, stepMs: 0 };
    const broken = await startProbes('failure', [[{ ...quick, failPermanently: true }, { providerId, steps: 2, stepMs: 200 }], [quick], [quick]]);
    const healthy = await startProbes('healthy', [[quick], [quick]]);

    const [[failed, sibling], [second], [third]] = await Promise.all(broken.map((stage) => Promise.all(stage.map((task) => waitForTaskEnd(task.id, 30000)))));
    assert.equal(failed.state, 'failed');
    assert.equal(sibling.state, 'completed');
    assert.equal(second.state, 'cancelled');
    assert.equal(second.result.outcome, 'dependency_failed');
    assert.equal(second.result.dependency, failed.id);
    assert.equal(second.started_at, null, 'a stopped step never ran');
    assert.equal(third.state, 'cancelled');
    assert.equal(third.result.outcome, 'dependency_cancelled');
    assert.equal(third.result.dependency, second.id);
    const held = await adminRows(`SELECT 1 FROM outbox WHERE job_id = ANY($1::text[])`, [[second.id, third.id]]);
    assert.equal(held.length, 0, 'their held jobs are gone');

    for (const stage of healthy) for (const task of stage) assert.equal((await waitForTaskEnd(task.id, 30000)).state, 'completed');
  });

  it('starting the same workflow again adds no task, job or dependency', async () => {
    const providerId = await insertProvider(alice.tenantId);
    const slow = { providerId, steps: 3, stepMs: 300 };
    const first = await startProbes('twice', [[slow], [slow]]);
    const again = await startProbes('twice', [[slow], [slow]]);
    assert.deepEqual(again.flat().map((t) => t.id), first.flat().map((t) => t.id));
    const ids = first.flat().map((t) => t.id);
    const [{ tasks }] = await adminRows<{ tasks: number }>(`SELECT count(*)::int AS tasks FROM tasks WHERE id = ANY($1::uuid[])`, [ids]);
    const [{ dependencies }] = await adminRows<{ dependencies: number }>(`SELECT count(*)::int AS dependencies FROM task_dependencies WHERE task_id = ANY($1::uuid[])`, [ids]);
    assert.equal(tasks, 2);
    assert.equal(dependencies, 1);
    for (const task of first.flat()) assert.equal((await waitForTaskEnd(task.id, 30000)).attempts, 1, 'each step ran once');
  });

  it('after a scan: the aggregations, then the report, each a task naming the scan, visible through the API', async () => {
    const provider = await awsProvider(alice.client);
    const task = await importAndWait(alice.client, provider.id, JSON.stringify(fixtureFindings(provider.uid)));
    assert.equal(task.attributes.state, 'completed', JSON.stringify(task.attributes.result));
    const scanId = task.attributes.result.scan_id as string;

    const stages = AFTER_SCAN_WORKFLOW;
    assert.deepEqual(stages.slice(0, 2), [['scan-overview', 'scan-compliance'], ['scan-report']]);
    const ended = await Promise.all(stages.map((stage) => Promise.all(stage.map((name) => waitForTaskEnd(deterministicId('after-scan', name, scanId), 30000)))));
    for (const stage of ended) for (const step of stage) assert.equal(step.state, 'completed', `${step.name}: ${JSON.stringify(step.result)}`);
    for (let s = 1; s < ended.length; s++) {
      for (const step of ended[s]) for (const before of ended[s - 1]) assert.ok(time(step.started_at) >= time(before.completed_at), `${step.name} after ${before.name}`);
    }

    const listed = await alice.client.get(`/api/v1/tasks?filter[name]=scan-report&page[size]=50`);
    assert.equal(listed.status, 200);
    const report = listed.body.data.find((t: { id: string }) => t.id === deterministicId('after-scan', 'scan-report', scanId));
    assert.ok(report, 'the report step is a task the user sees');
    assert.equal(report.attributes.task_args.scan_id, scanId);
    assert.equal(report.attributes.task_args.provider_id, provider.id);
    assert.deepEqual(
      [...report.attributes.metadata.waits_for].sort(),
      stages[0].map((name) => deterministicId('after-scan', name, scanId)).sort(),
      'the report step says which steps it waited for',
    );
  });
});
