import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ApiProcess, freePort, startApiProcess } from '../support/api-process';
import { signUp } from '../support/http-client';
import { CheckServer, fastQueueEnv, insertProvider, pollTask, spawnWorker, startCheckServer, taskRow, WorkerProcess } from '../support/tasks-fixture';

/** User plus system CPU time a running process has used (Linux /proc). */
function cpuSecondsOf(pid: number): number {
  // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th, in clock ticks.
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/**
 * The one rule: an API process (`start:prod`, `npm start`) runs the queue
 * processors when WORKERS_IN_PROCESS=true, which `npm start` sets by default;
 * a `start:worker` process runs the processors and nothing else. Each mode
 * here is the real compiled entry point, and a 202 task must complete.
 */
describe('process modes: start:prod, start:worker, npm start', () => {
  let check: CheckServer;
  const running: Array<ApiProcess | WorkerProcess> = [];

  before(async () => {
    check = await startCheckServer();
  });
  after(async () => {
    for (const process of running.splice(0)) await stopProcess(process);
    await check.close();
  });

  async function stopProcess(target: ApiProcess | WorkerProcess): Promise<void> {
    if (target.child.exitCode !== null || target.child.signalCode !== null) return;
    const exited = new Promise((resolve) => target.child.once('exit', resolve));
    target.child.kill('SIGTERM');
    await exited;
  }

  /** Signs up, starts a connection check (202), and answers the task's state once it ends, or 'still <state>' after `waitMs`. */
  async function connectionCheck(baseUrl: string, waitMs: number): Promise<string> {
    const user = await signUp(baseUrl, 'modes');
    const providerId = await insertProvider(user.tenantId);
    const accepted = await user.client.post(`/api/v1/providers/${providerId}/connection`);
    assert.equal(accepted.status, 202, JSON.stringify(accepted.body));
    try {
      return (await pollTask(user.client, accepted.body.data.id, waitMs)).attributes.state;
    } catch {
      return `still ${(await taskRow(accepted.body.data.id)).state}`;
    }
  }

  function env(label: string, extra: Record<string, string> = {}): Record<string, string> {
    return { ...fastQueueEnv(label), CONNECTION_CHECK_URL: check.url, ...extra };
  }

  it('start:prod with WORKERS_IN_PROCESS=true completes a 202 task on its own; without it the task waits for a worker', async () => {
    const withWorkers = await startApiProcess(env('mode-prod-in', { WORKERS_IN_PROCESS: 'true' }));
    running.push(withWorkers);
    assert.equal(await connectionCheck(withWorkers.baseUrl, 20000), 'completed');
    await stopProcess(withWorkers);

    const apiOnly = await startApiProcess(env('mode-prod-alone', { WORKERS_IN_PROCESS: 'false' }));
    running.push(apiOnly);
    assert.equal(await connectionCheck(apiOnly.baseUrl, 2500), 'still available', 'no processor ran it');
    await stopProcess(apiOnly);
  });

  it('start:worker runs the processors of an API that has none, and serves no HTTP', async () => {
    const settings = env('mode-worker', { WORKERS_IN_PROCESS: 'false' });
    const api = await startApiProcess(settings);
    running.push(api);
    const workerPort = await freePort();
    const worker = await spawnWorker({ ...settings, PORT: String(workerPort) });
    running.push(worker);
    assert.equal(await connectionCheck(api.baseUrl, 20000), 'completed');
    await assert.rejects(fetch(`http://127.0.0.1:${workerPort}/health/live`), 'nothing listens on the worker PORT');
  });

  it('npm start on a built checkout: ready within 15 s, workers in the process, logs at warn, the addresses printed last', async () => {
    const root = join(__dirname, '..', '..', '..');
    const startedAt = Date.now();
    // What `npm start` runs: the prestart check (no build: dist is current), then the local start.
    const prestart = spawnSync(process.execPath, [join(root, 'scripts', 'prestart.cjs'), '--build'], { cwd: root, encoding: 'utf8' });
    assert.equal(prestart.status, 0, prestart.stderr);
    assert.doesNotMatch(prestart.stdout, /compiling/, 'an unchanged checkout is not compiled again');
    // LOG_LEVEL unset, as a new user has it: the local start picks warn.
    const local = await startApiProcess(env('mode-local'), 'scripts/start-local.js', ['LOG_LEVEL', 'WORKERS_IN_PROCESS']);
    running.push(local);
    const ready = await fetch(`${local.baseUrl}/health/ready`);
    assert.equal(ready.status, 200);
    // The machine running the suite is shared (other test files run at the same time), so the
    // 15 s bound is on the CPU time the start used; wall-clock time only has to stay sane.
    const cpuSeconds = cpuSecondsOf(local.child.pid!);
    const wallMs = Date.now() - startedAt;
    assert.ok(cpuSeconds <= 15, `the start used ${cpuSeconds} s of CPU`);
    assert.ok(wallMs <= 120000, `ready after ${wallMs} ms`);

    assert.equal(await connectionCheck(local.baseUrl, 20000), 'completed');
    await sleep(200);
    const lines = local.output().trimEnd().split('\n');
    assert.deepEqual(lines.slice(-3).map((line) => line.split(':')[0]), ['API', 'Swagger UI', 'Health'], local.output());
    const infoLines = lines.filter((line) => line.startsWith('{') && JSON.parse(line).level < 40);
    assert.deepEqual(infoLines, [], 'nothing below warn is logged');
  });
});
