import { ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createServer, IncomingMessage, Server } from 'node:http';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Queue } from 'bullmq';
import Redis from 'ioredis';
import { TenantDatabase } from '../../src/database/tenant-database';
import { JobRequest } from '../../src/tasks/jobs/job-definitions';
import { QueueName } from '../../src/tasks/queue-names';
import { TaskRow } from '../../src/tasks/task.resource';
import { TasksService } from '../../src/tasks/tasks.service';
import { adminClient } from './database';
import { freePort } from './api-process';
import { ApiClient } from './http-client';
import { TestApp } from './test-app';

/** Settings that make queue behaviour observable within seconds: short locks, polls and retry delays. */
export function fastQueueEnv(prefixLabel: string): Record<string, string> {
  return {
    REDIS_PREFIX: `${process.env.REDIS_PREFIX}-${prefixLabel}`,
    TEST_JOBS: 'true',
    JOB_LOCK_DURATION_MS: '1000',
    JOB_STALLED_INTERVAL_MS: '500',
    JOB_RETRY_BASE_DELAY_MS: '100',
    JOB_RETRY_MAX_DELAY_MS: '400',
    OUTBOX_POLL_INTERVAL_MS: '200',
    OUTBOX_RETRY_MAX_DELAY_MS: '300',
    TASK_SWEEP_INTERVAL_MS: '500',
    WORKER_SHUTDOWN_GRACE_MS: '300',
  };
}

/** A live provider inserted as the owner role (the providers feature's endpoints are not needed for task tests). */
export async function insertProvider(tenantId: string, alias = 'test provider'): Promise<string> {
  const id = randomUUID();
  const uid = String(100000000000 + Math.floor(Math.random() * 899999999999));
  const admin = await adminClient();
  try {
    await admin.query(`INSERT INTO providers (id, tenant_id, provider, uid, alias) VALUES ($1, $2, 'aws', $3, $4)`, [id, tenantId, uid, alias]);
  } finally {
    await admin.end();
  }
  return id;
}

export async function adminRows<T = Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<T[]> {
  const admin = await adminClient();
  try {
    return (await admin.query(sql, params)).rows as T[];
  } finally {
    await admin.end();
  }
}

/** Enqueues as a request would: in a tenant transaction, through the outbox. For test-only jobs that no endpoint starts. */
export function enqueue(app: TestApp, tenantId: string, request: JobRequest): Promise<TaskRow> {
  const database = app.app.get(TenantDatabase);
  const tasks = app.app.get(TasksService);
  return database.transaction(tenantId, () => tasks.enqueue(request));
}

export async function taskRow(id: string): Promise<Record<string, any>> {
  const [row] = await adminRows(`SELECT * FROM tasks WHERE id = $1`, [id]);
  return row;
}

export async function waitFor<T>(what: string, probe: () => Promise<T | undefined | null | false>, timeoutMs = 15000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

const FINISHED = ['completed', 'failed', 'cancelled'];

/** The task row once it has finished (read as the owner role, so it works for any tenant). */
export function waitForTaskEnd(id: string, timeoutMs = 15000): Promise<Record<string, any>> {
  return waitFor(`task ${id} to finish`, async () => {
    const row = await taskRow(id);
    return row && FINISHED.includes(row.state) ? row : undefined;
  }, timeoutMs);
}

export function waitForTaskState(id: string, state: string, timeoutMs = 15000): Promise<Record<string, any>> {
  return waitFor(`task ${id} to be ${state}`, async () => {
    const row = await taskRow(id);
    return row?.state === state ? row : undefined;
  }, timeoutMs);
}

/** Through the API, as a client polls. */
export async function pollTask(client: ApiClient, id: string, timeoutMs = 15000): Promise<Record<string, any>> {
  return waitFor(`task ${id} through the API`, async () => {
    const response = await client.get(`/api/v1/tasks/${id}`);
    return response.status === 200 && FINISHED.includes(response.body.data.attributes.state) ? response.body.data : undefined;
  }, timeoutMs);
}

/** A BullMQ queue handle on the test's namespace, for looking at schedulers and jobs directly. */
export function inspectQueue(redisUrl: string, prefix: string, name: QueueName): Queue {
  return new Queue(name, { connection: { url: redisUrl }, prefix });
}

/**
 * The HTTP service the test connector (CONNECTION_CHECK_URL) asks. It counts
 * checks per uid; a uid in `held` waits until released.
 */
export interface CheckServer {
  url: string;
  checks: Map<string, number>;
  hold(uid: string): void;
  release(uid: string): void;
  close(): Promise<void>;
}

export async function startCheckServer(): Promise<CheckServer> {
  const checks = new Map<string, number>();
  const held = new Map<string, Array<() => void>>();
  const server: Server = createServer(async (request: IncomingMessage, response) => {
    let body = '';
    for await (const chunk of request) body += chunk;
    const { uid } = JSON.parse(body) as { uid: string };
    checks.set(uid, (checks.get(uid) ?? 0) + 1);
    if (held.has(uid)) await new Promise<void>((resolve) => held.get(uid)!.push(resolve));
    response.setHeader('content-type', 'application/json');
    response.end(JSON.stringify({ connected: !uid.endsWith('0'), error: uid.endsWith('0') ? 'AccessDenied' : null }));
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${port}/check`,
    checks,
    hold: (uid) => held.set(uid, held.get(uid) ?? []),
    release: (uid) => {
      for (const resolve of held.get(uid) ?? []) resolve();
      held.delete(uid);
    },
    close: () => {
      for (const uid of [...held.keys()]) for (const resolve of held.get(uid) ?? []) resolve();
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** A redis-server of the test's own, on a port it can stop and start again. */
export interface OwnRedis {
  url: string;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export async function ownRedisServer(): Promise<OwnRedis> {
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;
  const answers = async () => {
    const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    client.on('error', () => undefined);
    try {
      await client.connect();
      return (await client.ping()) === 'PONG';
    } catch {
      return false;
    } finally {
      client.disconnect();
    }
  };
  return {
    url,
    start: async () => {
      child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
      await waitFor('redis-server to answer', answers, 10000);
    },
    stop: () =>
      new Promise<void>((resolve) => {
        if (!child || child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/** `node dist/src/worker.js` as its own process, as `npm run start:worker` runs it. */
export interface WorkerProcess {
  child: ChildProcess;
  output(): string;
  /** The exit code, or the signal that ended it (Nest re-raises SIGTERM after a clean shutdown). */
  exited: Promise<number | NodeJS.Signals | null>;
}

export async function spawnWorker(env: Record<string, string>): Promise<WorkerProcess> {
  const child = spawn(process.execPath, [join(__dirname, '..', '..', 'src', 'worker.js')], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | NodeJS.Signals | null>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal)));
  try {
    await Promise.race([
      waitFor('the worker to start', async () => output.includes('worker: processing jobs'), 90000),
      exited.then((code) => {
        throw new Error(`worker exited with ${code}: ${output}`);
      }),
    ]);
  } catch (error) {
    // A worker that missed the deadline would still take jobs meant for the next one the test starts.
    child.kill('SIGKILL');
    await exited;
    throw error;
  }
  return { child, output: () => output, exited };
}
