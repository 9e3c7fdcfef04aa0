import { randomBytes } from 'node:crypto';
import { Registry } from 'prom-client';
import { httpDurationHistogram } from '../../src/metrics/metrics';
import { ApiProcess, startApiProcess } from '../support/api-process';
import { createBenchEnvironment } from '../support/bench-database';
import { processCpuMicros } from '../support/cpu-time';
import { load, LoadResult } from '../support/load';
import { signUp } from '../support/http-client';

/**
 * `npm run bench:http`, one JSON line: requests per second and p99 for an
 * authenticated read (JWT check, tenant transaction, principal query, handler
 * query) beside the bare /health/live in the same run, at 32 and 64
 * connections, and the same /users/me with an API key instead of the JWT
 * (goal: at least 0.9 of it); then what the Prometheus instrumentation costs
 * /users/me: an API with metrics on (METRICS_TOKEN) and one with them off, in
 * alternating rounds. Throughput on a shared 2-core machine moves by ±15 %
 * between rounds, far more than the 3 % being looked for, so each round also
 * reads the API process's own CPU time per request (/proc/<pid>/stat), which
 * other load barely moves; that ratio bounds what the instrumentation costs.
 * Both still move by more than 3 % between rounds, so the bench also times
 * the one thing a request pays for with metrics on, the histogram
 * observation of its response, alone in this process, and reports it as a
 * share of the CPU time a request takes with metrics off.
 */
const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const METRICS_ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);

async function main(): Promise<void> {
  const bench = await createBenchEnvironment('http');
  const api = await startApiProcess(bench.env);
  const base = api.baseUrl;
  const result: Record<string, unknown> = { bench: 'http', seconds: SECONDS };
  try {
    const user = await signUp(base, 'bench');
    const auth = { authorization: `Bearer ${user.access}`, accept: 'application/vnd.api+json' };
    const created = await user.client.post('/api/v1/api-keys', { data: { type: 'api-keys', attributes: { name: 'bench' } } });
    if (created.status !== 201) throw new Error(`creating the API key failed: ${created.status}`);
    const byKey = { authorization: `Api-Key ${created.body.data.attributes.api_key}`, accept: 'application/vnd.api+json' };
    for (const connections of [32, 64]) {
      const live = await load(`${base}/health/live`, connections, SECONDS);
      const me = await load(`${base}/api/v1/users/me`, connections, SECONDS, auth);
      const meByKey = await load(`${base}/api/v1/users/me`, connections, SECONDS, byKey);
      const tenants = await load(`${base}/api/v1/tenants`, connections, SECONDS, auth);
      result[`connections_${connections}`] = {
        health_live: live,
        users_me: me,
        users_me_api_key: meByKey,
        tenants,
        users_me_vs_live: ratio(me.rps, live.rps),
        tenants_vs_live: ratio(tenants.rps, live.rps),
        api_key_vs_jwt: ratio(meByKey.rps, me.rps),
      };
    }
    result.metrics = await compareMetrics(bench.env, auth);
    process.stdout.write(JSON.stringify(result) + '\n');
  } finally {
    await api.stop();
    await bench.cleanup();
  }
}

interface MetricsRound extends LoadResult {
  /** The API process's user + system CPU time per completed request. */
  cpu_us_per_request: number;
}

async function compareMetrics(env: Record<string, string>, auth: Record<string, string>): Promise<Record<string, unknown>> {
  const token = randomBytes(24).toString('hex');
  const connections = 32;
  const started: ApiProcess[] = [];
  try {
    const on = await startApiProcess({ ...env, METRICS_TOKEN: token });
    started.push(on);
    const off = await startApiProcess(env);
    started.push(off);
    const url = (api: ApiProcess) => `${api.baseUrl}/api/v1/users/me`;
    // Warm both (JIT, pools, caches) before anything is counted.
    for (const api of [off, on]) await load(url(api), connections, 2, auth);
    const rounds: Record<'on' | 'off', MetricsRound[]> = { on: [], off: [] };
    for (let round = 0; round < METRICS_ROUNDS; round++) {
      // Alternating, and each side first in turn, so drift on a shared machine falls on both.
      const order: Array<['on' | 'off', ApiProcess]> = round % 2 === 0 ? [['off', off], ['on', on]] : [['on', on], ['off', off]];
      for (const [side, api] of order) {
        const cpuBefore = processCpuMicros(api.child.pid!);
        const loaded = await load(url(api), connections, SECONDS, auth);
        const cpuUs = processCpuMicros(api.child.pid!) - cpuBefore;
        rounds[side].push({ ...loaded, cpu_us_per_request: Math.round(cpuUs / Math.max(1, loaded.requests)) });
      }
    }
    const scrape = await fetch(`${on.baseUrl}/metrics`, { headers: { authorization: `Bearer ${token}` } });
    const text = await scrape.text();
    if (scrape.status !== 200 || !text.includes('route="/api/v1/users/me"')) throw new Error(`metrics did not record the requests: ${scrape.status}`);
    const summary = (results: MetricsRound[]) => ({
      rps: median(results.map((r) => r.rps)),
      p99_ms: median(results.map((r) => r.p99_ms)),
      cpu_us_per_request: median(results.map((r) => r.cpu_us_per_request)),
      errors: results.reduce((n, r) => n + r.errors + r.non2xx, 0),
    });
    const withMetrics = summary(rounds.on);
    const without = summary(rounds.off);
    const observeUs = observationMicroseconds();
    return {
      connections,
      rounds: METRICS_ROUNDS,
      observation_us_per_request: observeUs,
      observation_share_of_cpu_per_request: Number((observeUs / without.cpu_us_per_request).toFixed(4)),
      users_me_metrics_off: without,
      users_me_metrics_on: withMetrics,
      rounds_rps: { off: rounds.off.map((r) => r.rps), on: rounds.on.map((r) => r.rps) },
      rounds_cpu_us_per_request: { off: rounds.off.map((r) => r.cpu_us_per_request), on: rounds.on.map((r) => r.cpu_us_per_request) },
      on_vs_off_rps: ratio(withMetrics.rps, without.rps),
      on_vs_off_cpu_per_request: ratio(withMetrics.cpu_us_per_request, without.cpu_us_per_request),
    };
  } finally {
    for (const api of started) await api.stop();
  }
}

/**
 * CPU microseconds of one response's observation (labels and histogram
 * update), over a million observations spread across the routes and
 * statuses a busy API sees, after a warm-up.
 */
function observationMicroseconds(): number {
  const histogram = httpDurationHistogram([new Registry()]);
  const routes = ['/api/v1/users/me', '/api/v1/findings', '/api/v1/tenants', '/api/v1/providers/:id', 'unmatched'];
  const observe = (n: number) => {
    for (let i = 0; i < n; i++) histogram.observe({ method: 'GET', route: routes[i % routes.length], status_code: i % 50 === 0 ? 404 : 200 }, (i % 300) / 1000);
  };
  observe(100_000);
  const count = 1_000_000;
  const started = process.cpuUsage();
  observe(count);
  const used = process.cpuUsage(started);
  return Number(((used.user + used.system) / count).toFixed(3));
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function ratio(numerator: number, denominator: number): number {
  return Number((numerator / denominator).toFixed(3));
}

main().catch((error) => {
  process.stderr.write(`bench:http failed: ${(error as Error).stack}\n`);
  process.exit(1);
});
