import { fork } from 'node:child_process';
import { createServer, IncomingMessage, ServerResponse } from 'node:http';
import jwt from 'jsonwebtoken';
import { Client, Pool } from 'pg';
import { loadConfig } from '../../src/config/app-config';
import { jwtKeys } from '../../src/auth/jwt-keys';
import { isUuid } from '../../src/database/uuid';
import { ApiProcess, startApiProcess } from '../support/api-process';
import { createBenchEnvironment } from '../support/bench-database';
import { aggregate, appDataSource, ingestRecords, insertCompletedScan, insertProviderRow } from '../support/bench-ingestion';
import { generateRecords } from '../support/finding-generator';
import { startLoadBalancer } from '../support/haproxy';
import { signUp } from '../support/http-client';
import { cpuSpentSince, postgresCpuByProcess, processCpuMicros } from '../support/cpu-time';
import { load, LoadResult } from '../support/load';
import { primaryLsn, startStandby } from '../support/standby';
import { median } from '../support/median';

/**
 * `npm run bench:findings`: a fresh database holding FINDINGS findings of
 * TENANTS tenants (3 providers each, ingested through the real path), the API
 * as its own process, and at 32 and 64 connections the filtered findings page
 * with its count and in cursor mode; beside it, in the same run, a minimal
 * node:http + pg server (this file, forked with --baseline) that verifies the
 * JWT, opens one transaction with the tenant setting, runs the same
 * statements and writes a JSON:API body. Both are warmed up first, then
 * measured in alternating rounds; figures are medians over the rounds, and
 * each ratio the median of the rounds' own ratios. Where a side is served
 * by one process, its rounds also read that process's CPU time per request
 * and PostgreSQL's: what a request costs each part, which says what more
 * cores would give. BENCH_TOPOLOGY compares other pairs instead (see below);
 * one JSON line per connection count.
 */
const FINDINGS = Number(process.env.BENCH_FINDINGS ?? 200_000);
const TENANTS = Number(process.env.BENCH_TENANTS ?? 4);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CONNECTIONS = (process.env.BENCH_CONNECTIONS ?? '32,64').split(',').map(Number);
/**
 * BENCH_TOPOLOGY picks what is compared, in one run:
 * - `single` (default): the API against the minimal baseline server, both on the primary;
 * - `replica`: the API reading a hot standby (pg_basebackup of the bench's server,
 *   DATABASE_REPLICA_URL, so every request also asks Redis for the user's write
 *   marks) against the same API reading the primary;
 * - `balanced`: two API processes behind HAProxy against one API process.
 */
const TOPOLOGY = (process.env.BENCH_TOPOLOGY ?? 'single') as 'single' | 'replica' | 'balanced';
const MODES = ['count', 'cursor'] as const;
type Mode = (typeof MODES)[number];
const QUERY = 'filter[severity__in]=critical,high&filter[status]=FAIL&page[size]=50';
const METRICS_TOKEN = 'bench-findings-metrics-0123456789';

interface Side {
  name: string;
  url(mode: Mode): string;
  /** The one process that serves this side, when there is one: its CPU time per request is reported. */
  pid?: number;
}

/** A round's load result with the CPU time the serving process and PostgreSQL spent per request during it. */
interface Round extends LoadResult {
  server_cpu_us: number;
  postgres_cpu_us: number;
}

async function main(): Promise<void> {
  if (!['single', 'replica', 'balanced'].includes(TOPOLOGY)) throw new Error('BENCH_TOPOLOGY must be single, replica or balanced');
  const bench = await createBenchEnvironment('findings');
  const stops: Array<() => Promise<void>> = [];
  try {
    // Metrics (which time every response) only where the replica side has them too, so both sides pay alike.
    const api = await startApiProcess(TOPOLOGY === 'replica' ? { ...bench.env, METRICS_TOKEN } : bench.env);
    stops.push(api.stop);
    const token = await seed(api.baseUrl, bench.env);
    const apiSide = (name: string, baseUrl: string, pid?: number): Side => ({
      name,
      pid,
      url: (mode) => `${baseUrl}/api/v1/findings?${mode === 'cursor' ? `${QUERY}&page[cursor]=` : QUERY}`,
    });
    let sides: [Side, Side];
    const extra: Record<string, unknown> = {};
    let replicaApi: ApiProcess | undefined;
    if (TOPOLOGY === 'single') {
      const baseline = await startBaseline(bench.env);
      stops.unshift(baseline.stop);
      sides = [apiSide('api', api.baseUrl, api.child.pid), { name: 'baseline', pid: baseline.pid, url: (mode) => `${baseline.url}/findings?mode=${mode}` }];
    } else if (TOPOLOGY === 'replica') {
      // Started after seeding, so the base backup holds the findings; no apply delay: the standby keeps up.
      const standby = await startStandby({ primaryUrl: bench.env.DATABASE_ADMIN_URL, applyDelayMs: 0 });
      stops.unshift(standby.remove);
      await standby.waitForReplay(await primaryLsn(bench.env.DATABASE_ADMIN_URL), 120000);
      replicaApi = await startApiProcess({
        ...bench.env,
        METRICS_TOKEN,
        DATABASE_REPLICA_URL: standby.urlFor(bench.env.DATABASE_URL),
        DATABASE_ADMIN_REPLICA_URL: standby.urlFor(bench.env.DATABASE_ADMIN_URL),
      });
      stops.unshift(replicaApi.stop);
      sides = [apiSide('replica', replicaApi.baseUrl), apiSide('primary', api.baseUrl)];
    } else {
      const [first, second] = await Promise.all([startApiProcess(bench.env), startApiProcess(bench.env)]);
      stops.unshift(first.stop, second.stop);
      const balancer = await startLoadBalancer([first.baseUrl, second.baseUrl]);
      stops.unshift(balancer.stop);
      sides = [apiSide('balanced', balancer.baseUrl), apiSide('single', api.baseUrl)];
    }
    const auth = { authorization: `Bearer ${token}`, accept: 'application/vnd.api+json' };
    const database = new URL(bench.env.DATABASE_URL).pathname.slice(1);
    // The first seconds of a cold process (JIT, pooled connections, prepared statements) say nothing of its steady speed.
    for (const side of sides) for (const mode of MODES) await load(side.url(mode), 32, 2, auth);
    for (const connections of CONNECTIONS) {
      const results: Record<string, Round[]> = {};
      for (let round = 0; round < ROUNDS; round++) {
        for (const mode of MODES) {
          // Alternating who goes first, so drift in the machine's load falls on both sides alike.
          for (const side of round % 2 ? [sides[1], sides[0]] : sides) {
            (results[`${side.name}_${mode}`] ??= []).push(await measuredRound(side, side.url(mode), connections, auth, database));
          }
        }
      }
      const summary = (name: string) => ({
        rps: Math.round(median(results[name].map((r) => r.rps))),
        p50_ms: median(results[name].map((r) => r.p50_ms)),
        p99_ms: median(results[name].map((r) => r.p99_ms)),
        failed: results[name].reduce((sum, r) => sum + r.errors + r.non2xx, 0),
        ...(results[name][0].server_cpu_us > 0
          ? { cpu_us_per_request: { server: median(results[name].map((r) => r.server_cpu_us)), postgres: median(results[name].map((r) => r.postgres_cpu_us)) } }
          : {}),
      });
      const [a, b] = sides.map((side) => side.name);
      const roundRatio = (mode: Mode, field: 'rps' | 'p99_ms') =>
        Number(median(results[`${a}_${mode}`].map((r, round) => r[field] / Math.max(results[`${b}_${mode}`][round][field], 1e-9))).toFixed(3));
      if (replicaApi) extra.replica_routed_reads = await routedReads(replicaApi.baseUrl);
      process.stdout.write(
        JSON.stringify({
          bench: 'findings',
          topology: TOPOLOGY,
          findings: FINDINGS,
          tenants: TENANTS,
          connections,
          rounds: ROUNDS,
          seconds_each: SECONDS,
          [`${a}_count`]: summary(`${a}_count`),
          [`${b}_count`]: summary(`${b}_count`),
          [`${a}_cursor`]: summary(`${a}_cursor`),
          [`${b}_cursor`]: summary(`${b}_cursor`),
          ...(TOPOLOGY === 'single'
            ? {
                count_rps_ratio: roundRatio('count', 'rps'),
                count_p99_ratio: roundRatio('count', 'p99_ms'),
                cursor_rps_ratio: roundRatio('cursor', 'rps'),
                cursor_p99_ratio: roundRatio('cursor', 'p99_ms'),
              }
            : {
                [`${a}_vs_${b}_count_rps_ratio`]: roundRatio('count', 'rps'),
                [`${a}_vs_${b}_count_p99_ratio`]: roundRatio('count', 'p99_ms'),
                [`${a}_vs_${b}_cursor_rps_ratio`]: roundRatio('cursor', 'rps'),
                [`${a}_vs_${b}_cursor_p99_ratio`]: roundRatio('cursor', 'p99_ms'),
              }),
          ...extra,
        }) + '\n',
      );
    }
  } finally {
    for (const stop of stops) await stop().catch(() => undefined);
    await bench.cleanup();
  }
}

/**
 * One load round, with the CPU time per completed request of the side's
 * serving process and of the PostgreSQL backends serving the bench's database over the round:
 * what each request costs each part, whatever else the two cores were doing.
 */
async function measuredRound(side: Side, url: string, connections: number, headers: Record<string, string>, database: string): Promise<Round> {
  const server = side.pid ? processCpuMicros(side.pid) : 0;
  const postgres = postgresCpuByProcess(database);
  const loaded = await load(url, connections, SECONDS, headers);
  const requests = Math.max(1, loaded.requests);
  return {
    ...loaded,
    server_cpu_us: side.pid ? Math.round((processCpuMicros(side.pid) - server) / requests) : 0,
    postgres_cpu_us: Math.round(cpuSpentSince(postgres, postgresCpuByProcess(database)) / requests),
  };
}

/** Where the replica-reading process sent its reads (db_replica_routed_reads_total), to show they hit the standby. */
async function routedReads(baseUrl: string): Promise<Record<string, number>> {
  const text = await (await fetch(`${baseUrl}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).text();
  const counts: Record<string, number> = {};
  for (const match of text.matchAll(/^db_replica_routed_reads_total\{target="(\w+)",reason="(\w+)"\} (\d+)/gm)) counts[`${match[1]}:${match[2]}`] = Number(match[3]);
  return counts;
}

/** Tenants through the API (users to sign in as), their providers and scans as rows, findings through ingestion. */
async function seed(baseUrl: string, env: Record<string, string>): Promise<string> {
  const admin = new Client({ connectionString: env.DATABASE_ADMIN_URL });
  await admin.connect();
  const app = await appDataSource(env.DATABASE_URL, 1);
  let token = '';
  try {
    const perProvider = Math.floor(FINDINGS / TENANTS / 3);
    for (let t = 0; t < TENANTS; t++) {
      const user = await signUp(baseUrl, `bench-findings-${t}`);
      if (t === 0) token = user.access;
      for (let p = 0; p < 3; p++) {
        const providerId = await insertProviderRow(admin, user.tenantId, String(100000000000 + t * 10 + p));
        const startedAt = new Date(Date.now() - (TENANTS * 3 - t * 3 - p) * 60_000);
        const scanId = await insertCompletedScan(admin, user.tenantId, providerId, startedAt);
        const scan = { tenantId: user.tenantId, scanId, providerId, scanStartedAt: startedAt };
        await ingestRecords(app, scan, generateRecords({ providerKey: `${t}-${p}`, count: perProvider }));
        await aggregate(app, user.tenantId, scanId);
      }
    }
    await admin.query('VACUUM ANALYZE');
  } finally {
    await app.destroy();
    await admin.end();
  }
  return token;
}

/**
 * Runs the baseline server in a child process, so it does not share the load
 * generator's event loop. `stop` waits for it to exit: the scratch database is
 * dropped right after, and a pool still connected would crash it noisily.
 */
function startBaseline(env: Record<string, string>): Promise<{ url: string; pid: number; stop: () => Promise<void> }> {
  return new Promise((resolve, reject) => {
    const child = fork(__filename, ['--baseline'], { env: { ...process.env, ...env }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const exited = new Promise<void>((done) => child.once('exit', () => done()));
    child.once('message', (port) =>
      resolve({
        url: `http://127.0.0.1:${port}`,
        pid: child.pid!,
        stop: () => {
          if (child.exitCode === null) child.kill('SIGTERM');
          return exited;
        },
      }),
    );
    child.once('exit', (code) => reject(new Error(`baseline exited with ${code}`)));
  });
}

const PAGE_SQL = `
  SELECT page.*, ARRAY(SELECT l.resource_id FROM resource_finding_links l
                        WHERE l.tenant_id = page.tenant_id AND l.finding_id = page.id ORDER BY l.resource_id) AS resource_ids
    FROM (SELECT f.id, f.scan_id, f.uid, f.delta, f.status, f.status_extended, f.severity, f.check_id, f.check_title, f.service,
                 f.resource_type, f.muted, f.muted_reason, f.first_seen_at, f.inserted_at, f.updated_at, f.tenant_id
            FROM findings f
           WHERE f.provider_id = ANY(ARRAY(SELECT p.id FROM providers p WHERE p.deleted_at IS NULL))
             AND f.severity = ANY($1) AND f.status = $2
           ORDER BY f.id DESC LIMIT $3) page
   ORDER BY page.id DESC`;
const COUNT_SQL = `
  SELECT COALESCE(sum(f.findings), 0) AS count FROM finding_counts f
   WHERE f.provider_id = ANY(ARRAY(SELECT p.id FROM providers p WHERE p.deleted_at IS NULL)) AND f.severity = ANY($1) AND f.status = $2`;

/** The baseline: what the findings page needs and nothing else. */
function runBaseline(): void {
  const config = loadConfig(process.env);
  const verifyKey = jwtKeys(config.jwt).verify;
  const pool = new Pool({ connectionString: process.env.DATABASE_URL, max: config.database.poolSize });
  const server = createServer((request, response) => {
    handle(request, response).catch(() => {
      response.statusCode = 500;
      response.end();
    });
  });

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const token = /^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1];
    let claims: { tenant_id?: string };
    try {
      claims = jwt.verify(token ?? '', verifyKey, { algorithms: [config.jwt.algorithm], issuer: config.jwt.issuer, audience: config.jwt.audience }) as typeof claims;
    } catch {
      response.statusCode = 401;
      response.end();
      return;
    }
    if (!isUuid(claims.tenant_id)) {
      response.statusCode = 401;
      response.end();
      return;
    }
    const cursorMode = (request.url ?? '').includes('mode=cursor');
    const params = [['critical', 'high'], 'FAIL'];
    const client = await pool.connect();
    try {
      await client.query(`BEGIN READ ONLY; SELECT set_config('api.tenant_id', '${claims.tenant_id}', true)`);
      const page = await client.query(PAGE_SQL, [...params, cursorMode ? 51 : 50]);
      const count = cursorMode ? null : await client.query(COUNT_SQL, params);
      await client.query('COMMIT');
      const rows = page.rows.slice(0, 50);
      const body = {
        data: rows.map((f) => ({
          type: 'findings',
          id: f.id,
          attributes: {
            uid: f.uid, delta: f.delta, status: f.status, status_extended: f.status_extended, severity: f.severity, check_id: f.check_id,
            check_metadata: { checkid: f.check_id, checktitle: f.check_title, servicename: f.service, severity: f.severity, resourcetype: f.resource_type },
            inserted_at: f.inserted_at, updated_at: f.updated_at, first_seen_at: f.first_seen_at, muted: f.muted, muted_reason: f.muted_reason,
          },
          relationships: {
            scan: { data: { type: 'scans', id: f.scan_id } },
            resources: { data: (f.resource_ids as string[]).map((id) => ({ type: 'resources', id })) },
          },
        })),
        ...(count ? { meta: { pagination: { page: 1, pages: Math.ceil(Number(count.rows[0].count) / 50), count: Number(count.rows[0].count) } } } : {}),
        ...(cursorMode ? { links: { next: page.rows.length > 50 ? 'next' : null } } : {}),
      };
      response.setHeader('content-type', 'application/vnd.api+json');
      response.end(JSON.stringify(body));
    } finally {
      client.release();
    }
  }

  server.listen(0, '127.0.0.1', () => process.send?.((server.address() as { port: number }).port));
  process.on('SIGTERM', () => {
    server.close();
    void pool.end().then(() => process.exit(0));
  });
}

if (process.argv.includes('--baseline')) {
  runBaseline();
} else {
  main().catch((error) => {
    process.stderr.write(`bench:findings failed: ${(error as Error).stack}\n`);
    process.exit(1);
  });
}
