import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { Pool } from 'pg';
import type { DataSource } from 'typeorm';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { ADMIN_DATA_SOURCE, ADMIN_REPLICA_DATA_SOURCE, APP_DATA_SOURCE, REPLICA_DATA_SOURCE } from '../database/data-source-names';
import { ReplicaRouter } from '../database/replica-router';
import { TenantDatabase } from '../database/tenant-database';
import { queueNamespace } from '../tasks/queue/bullmq-connection';
import { QueueRegistry, withTimeout } from '../tasks/queue/queue-registry';

/** A scrape must answer even while Redis or PostgreSQL does not: what cannot be read in time is left out. */
const COLLECT_TIMEOUT_MS = 2000;

const JOB_BUCKETS = [0.01, 0.05, 0.25, 1, 5, 15, 60, 300, 900, 3600, 21600];

/** The per-request histogram; also built alone by bench:http, to time what each response pays for it. */
export function httpDurationHistogram(registers: Registry[]): Histogram<'method' | 'route' | 'status_code'> {
  return new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP requests by route template (not the raw URL) and status.',
    labelNames: ['method', 'route', 'status_code'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers,
  });
}

/**
 * The process's Prometheus metrics, in a registry of its own (several
 * applications may share a process: the API with its workers, tests).
 * Counters and histograms are recorded as things happen; pool, queue and
 * outbox gauges are read when Prometheus scrapes. Off (nothing recorded)
 * unless METRICS_PORT or METRICS_TOKEN is set.
 */
@Injectable()
export class Metrics {
  private readonly logger = new Logger('Metrics');
  readonly enabled: boolean;
  readonly registry = new Registry();
  private readonly httpDuration: Histogram<'method' | 'route' | 'status_code'>;
  private readonly jobDuration: Histogram<'queue' | 'job' | 'outcome'>;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly queues: QueueRegistry,
    private readonly database: TenantDatabase,
    @InjectDataSource(APP_DATA_SOURCE) app: DataSource,
    @InjectDataSource(REPLICA_DATA_SOURCE) replica: DataSource,
    @InjectDataSource(ADMIN_DATA_SOURCE) admin: DataSource,
    @InjectDataSource(ADMIN_REPLICA_DATA_SOURCE) adminReplica: DataSource,
    router: ReplicaRouter,
  ) {
    this.enabled = config.metrics.port > 0 || config.metrics.token !== '';
    const registers = [this.registry];
    this.httpDuration = httpDurationHistogram(registers);
    this.jobDuration = new Histogram({
      name: 'job_duration_seconds',
      help: 'Background jobs run by this process, by job name and outcome.',
      labelNames: ['queue', 'job', 'outcome'],
      buckets: JOB_BUCKETS,
      registers,
    });
    if (!this.enabled) return;
    collectDefaultMetrics({ register: this.registry });
    // Only where reads are routed: a gauge without labels reads 0 until set, which would claim a replica down (or caught up) that is not there.
    if (router.routes) for (const metric of [router.reads, router.outages, router.available, router.lag]) this.registry.registerMetric(metric);
    this.poolGauges({ [APP_DATA_SOURCE]: app, [REPLICA_DATA_SOURCE]: replica, [ADMIN_DATA_SOURCE]: admin, [ADMIN_REPLICA_DATA_SOURCE]: adminReplica });
    this.queueGauges();
    this.outboxGauges();
  }

  observeHttp(method: string, route: string, statusCode: number, seconds: number): void {
    this.httpDuration.observe({ method, route, status_code: statusCode }, seconds);
  }

  observeJob(queue: string, job: string, outcome: string, seconds: number): void {
    if (this.enabled) this.jobDuration.observe({ queue, job, outcome }, seconds);
  }

  async text(): Promise<string> {
    return this.registry.metrics();
  }

  private poolGauges(sources: Record<string, DataSource>): void {
    const pools = () => Object.entries(sources).map(([name, source]) => [name, (source.driver as unknown as { master?: Pool }).master] as const);
    new Gauge({
      name: 'db_pool_connections',
      help: 'Connections of each database pool (data source): open in all, idle, in use.',
      labelNames: ['data_source', 'state'],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const [name, pool] of pools()) {
          if (!pool) continue;
          this.set({ data_source: name, state: 'total' }, pool.totalCount);
          this.set({ data_source: name, state: 'idle' }, pool.idleCount);
          this.set({ data_source: name, state: 'in_use' }, pool.totalCount - pool.idleCount);
        }
      },
    });
    new Gauge({
      name: 'db_pool_waiting_requests',
      help: 'Queries waiting for a connection of each database pool (data source).',
      labelNames: ['data_source'],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const [name, pool] of pools()) if (pool) this.set({ data_source: name }, pool.waitingCount);
      },
    });
  }

  private queueGauges(): void {
    const queues = this.queues;
    const logger = this.logger;
    new Gauge({
      name: 'queue_jobs',
      help: 'Jobs of each queue by state (waiting is the queue depth), read from Redis at scrape.',
      labelNames: ['queue', 'state'],
      registers: [this.registry],
      async collect() {
        this.reset();
        await Promise.all(
          queues.all().map(async (queue) => {
            try {
              const counts = await withTimeout(queue.getJobCounts('wait', 'prioritized', 'active', 'delayed', 'failed'), COLLECT_TIMEOUT_MS);
              this.set({ queue: queue.name, state: 'waiting' }, (counts.wait ?? 0) + (counts.prioritized ?? 0));
              for (const state of ['active', 'delayed', 'failed']) this.set({ queue: queue.name, state }, counts[state] ?? 0);
            } catch (error) {
              logger.warn(`queue ${queue.name} not measured: ${(error as Error).message}`);
            }
          }),
        );
      },
    });
  }

  private outboxGauges(): void {
    // One owner-role query per scrape, shared by both gauges: a scrape starts every collect() at once, the first starts the query.
    // Held rows (a workflow step waiting for the steps before it, a scan waiting for its provider's) are not late: left out.
    let pending: Promise<{ waiting: number; oldest: number } | null> | null = null;
    const read = () =>
      (pending ??= this.database
        .adminQuery<{ waiting: number; oldest: number | null }>(
          `SELECT count(*)::int AS waiting, COALESCE(EXTRACT(EPOCH FROM now() - min(inserted_at)), 0)::float8 AS oldest
             FROM outbox WHERE queue_namespace = $1 AND available_at <> 'infinity'`,
          [queueNamespace(this.config)],
        )
        .then(([row]) => ({ waiting: row.waiting, oldest: row.oldest ?? 0 }))
        .catch((error: Error) => {
          this.logger.warn(`outbox not measured: ${error.message}`);
          return null;
        })
        .finally(() => (pending = null)));
    new Gauge({
      name: 'outbox_rows_waiting',
      help: 'Outbox rows not yet relayed to BullMQ (rows held back until released are left out).',
      registers: [this.registry],
      async collect() {
        const outbox = await read();
        if (outbox) this.set(outbox.waiting);
      },
    });
    new Gauge({
      name: 'outbox_oldest_row_age_seconds',
      help: 'Age of the oldest outbox row not yet relayed (0 when none waits).',
      registers: [this.registry],
      async collect() {
        const outbox = await read();
        if (outbox) this.set(outbox.oldest);
      },
    });
  }
}
