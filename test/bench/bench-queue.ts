import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { Job, Queue, Worker } from 'bullmq';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from 'pg';
import { loadConfig } from '../../src/config/app-config';
import { withConfig } from '../../src/config/config.module';
import { TenantDatabase } from '../../src/database/tenant-database';
import { TasksService } from '../../src/tasks/tasks.service';
import { WorkerModule } from '../../src/worker.module';
import { createBenchEnvironment } from '../support/bench-database';

/**
 * `npm run bench:queue`: no-op jobs per second and enqueue-to-start latency
 * through the whole path — a tenant transaction writing the task and outbox
 * rows (what a request does), the relay, BullMQ, the tenant wrapper with its
 * claim and body transactions — beside bare BullMQ no-op jobs on the same
 * Redis with the same worker concurrency. One JSON line.
 *
 * Throughput: JOBS enqueued by PRODUCERS loops as fast as they go, timed from
 * the first enqueue to the last job done. Latency: a separate, paced run
 * (one job every PACE_MS, below either path's capacity), so it measures the
 * path and not the backlog a burst builds.
 */
const JOBS = Number(process.env.BENCH_JOBS ?? 2000);
const PRODUCERS = Number(process.env.BENCH_PRODUCERS ?? 16);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 8);
const LATENCY_JOBS = Number(process.env.BENCH_LATENCY_JOBS ?? 300);
const PACE_MS = Number(process.env.BENCH_PACE_MS ?? 10);

interface Figures {
  jobs_per_second: number;
  latency_p50_ms: number;
  latency_p99_ms: number;
}

/** One way of enqueuing a no-op job and learning, once all are done, when each started. */
interface Path {
  enqueue(enqueuedAt: number): Promise<void>;
  /** Resolves once `count` jobs of this run are done, with each job's enqueue-to-start latency and the last finish time. */
  settle(count: number): Promise<{ latencies: number[]; lastFinished: number }>;
  reset(): Promise<void>;
}

async function main(): Promise<void> {
  const bench = await createBenchEnvironment('queue');
  const env = { ...bench.env, TEST_JOBS: 'true', QUEUE_CONCURRENCY_BACKFILL: String(CONCURRENCY), DATABASE_POOL_SIZE: '40' };
  const config = loadConfig({ ...process.env, ...env });
  const admin = new Client({ connectionString: bench.env.DATABASE_ADMIN_URL });
  await admin.connect();
  const app = await NestFactory.createApplicationContext(withConfig(config, WorkerModule.forWorkerProcess()), { logger: false });
  const bare = await barePath(config.redis.url, `${config.redis.prefix}-bare`);
  try {
    const tenantId = randomUUID();
    await admin.query(`INSERT INTO tenants (id, name) VALUES ($1, 'bench')`, [tenantId]);
    const full = fullPath(app.get(TenantDatabase), app.get(TasksService), admin, tenantId);
    const fullFigures = await measure(full);
    const bareFigures = await measure(bare);
    process.stdout.write(
      JSON.stringify({
        bench: 'queue',
        jobs: JOBS,
        producers: PRODUCERS,
        worker_concurrency: CONCURRENCY,
        latency_jobs: LATENCY_JOBS,
        latency_pace_ms: PACE_MS,
        full_path: fullFigures,
        bare_bullmq: bareFigures,
        full_vs_bare_jobs_per_second: Number((fullFigures.jobs_per_second / bareFigures.jobs_per_second).toFixed(3)),
      }) + '\n',
    );
  } finally {
    await bare.close();
    await app.close();
    await admin.end();
    await bench.cleanup();
  }
}

async function measure(path: Path): Promise<Figures> {
  const started = Date.now();
  let remaining = JOBS;
  await Promise.all(
    Array.from({ length: PRODUCERS }, async () => {
      while (remaining > 0) {
        remaining--;
        await path.enqueue(Date.now());
      }
    }),
  );
  const burst = await path.settle(JOBS);
  await path.reset();

  const paced: Array<Promise<void>> = [];
  for (let i = 0; i < LATENCY_JOBS; i++) {
    paced.push(path.enqueue(Date.now()));
    await sleep(PACE_MS);
  }
  await Promise.all(paced);
  const { latencies } = await path.settle(LATENCY_JOBS);
  await path.reset();

  const sorted = [...latencies].sort((a, b) => a - b);
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
  return { jobs_per_second: Math.round((JOBS / (burst.lastFinished - started)) * 1000), latency_p50_ms: at(0.5), latency_p99_ms: at(0.99) };
}

function fullPath(database: TenantDatabase, tasks: TasksService, admin: Client, tenantId: string): Path {
  return {
    enqueue: async (enqueuedAt) => {
      await database.transaction(tenantId, () => tasks.enqueue({ name: 'test-noop', args: { enqueuedAt } }));
    },
    settle: async (count) => {
      for (;;) {
        const { rows } = await admin.query(`SELECT count(*)::int AS done FROM tasks WHERE tenant_id = $1 AND state IN ('completed', 'failed')`, [tenantId]);
        if (rows[0].done >= count) break;
        await sleep(20);
      }
      const { rows } = await admin.query<{ latency: string; finished: string; failed: boolean }>(
        `SELECT (result->>'started_at')::bigint - (task_args->>'enqueuedAt')::bigint AS latency,
                (extract(epoch FROM completed_at) * 1000)::bigint AS finished, state = 'failed' AS failed
           FROM tasks WHERE tenant_id = $1`,
        [tenantId],
      );
      if (rows.some((row) => row.failed)) throw new Error('some no-op tasks failed');
      return { latencies: rows.map((row) => Number(row.latency)), lastFinished: Math.max(...rows.map((row) => Number(row.finished))) };
    },
    reset: async () => {
      await admin.query(`DELETE FROM tasks WHERE tenant_id = $1`, [tenantId]);
    },
  };
}

async function barePath(redisUrl: string, prefix: string): Promise<Path & { close(): Promise<void> }> {
  let latencies: number[] = [];
  let lastFinished = 0;
  const queue = new Queue('bench-bare', { connection: { url: redisUrl }, prefix });
  const worker = new Worker(
    'bench-bare',
    async (job: Job<{ enqueuedAt: number }>) => {
      latencies.push(Date.now() - job.data.enqueuedAt);
      lastFinished = Date.now();
    },
    { connection: { url: redisUrl, maxRetriesPerRequest: null }, prefix, concurrency: CONCURRENCY, removeOnComplete: { count: 1000 } },
  );
  await worker.waitUntilReady();
  return {
    enqueue: async (enqueuedAt) => {
      await queue.add('noop', { enqueuedAt });
    },
    settle: async (count) => {
      while (latencies.length < count) await sleep(20);
      return { latencies, lastFinished };
    },
    reset: async () => {
      latencies = [];
    },
    close: async () => {
      await worker.close();
      await queue.obliterate({ force: true }).catch(() => undefined);
      await queue.close();
    },
  };
}

main().catch((error) => {
  process.stderr.write(`bench:queue failed: ${(error as Error).stack}\n`);
  process.exit(1);
});
