import { randomBytes } from 'node:crypto';
import { ApiProcess, startApiProcess } from '../support/api-process';
import { createBenchEnvironment } from '../support/bench-database';
import { load, LoadResult } from '../support/load';
import { signUp } from '../support/http-client';

/**
 * `npm run bench:http`: requests per second and p99 for an authenticated read
 * (JWT check, tenant transaction, principal query, handler query) beside the
 * bare /health/live in the same run, at 32 and 64 connections, and the same
 * /users/me with an API key instead of the JWT (goal: at least 0.9 of it);
 * then what the Prometheus instrumentation costs /users/me: an API with
 * metrics on (METRICS_TOKEN) and one with them off, in alternating rounds, medians.
 */
const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const METRICS_ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

async function main(): Promise<void> {
  const bench = await createBenchEnvironment('http');
  const api = await startApiProcess(bench.env);
  const base = api.baseUrl;
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
      process.stdout.write(
        JSON.stringify({
          bench: 'http',
          connections,
          seconds: SECONDS,
          health_live: live,
          users_me: me,
          users_me_api_key: meByKey,
          tenants: tenants,
          users_me_vs_live: Number((me.rps / live.rps).toFixed(3)),
          tenants_vs_live: Number((tenants.rps / live.rps).toFixed(3)),
          api_key_vs_jwt: Number((meByKey.rps / me.rps).toFixed(3)),
        }) + '\n',
      );
    }
    await compareMetrics(bench.env, auth);
  } finally {
    await api.stop();
    await bench.cleanup();
  }
}

async function compareMetrics(env: Record<string, string>, auth: Record<string, string>): Promise<void> {
  const token = randomBytes(24).toString('hex');
  const connections = 32;
  const started: ApiProcess[] = [];
  try {
    const on = await startApiProcess({ ...env, METRICS_TOKEN: token });
    started.push(on);
    const off = await startApiProcess(env);
    started.push(off);
    const rounds: Record<'on' | 'off', LoadResult[]> = { on: [], off: [] };
    for (let round = 0; round < METRICS_ROUNDS; round++) {
      // Alternating, and each side first in turn, so drift on a shared machine falls on both.
      const order: Array<['on' | 'off', ApiProcess]> = round % 2 === 0 ? [['off', off], ['on', on]] : [['on', on], ['off', off]];
      for (const [side, api] of order) rounds[side].push(await load(`${api.baseUrl}/api/v1/users/me`, connections, SECONDS, auth));
    }
    const scrape = await fetch(`${on.baseUrl}/metrics`, { headers: { authorization: `Bearer ${token}` } });
    const text = await scrape.text();
    if (scrape.status !== 200 || !text.includes('route="/api/v1/users/me"')) throw new Error(`metrics did not record the requests: ${scrape.status}`);
    const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
    const summary = (results: LoadResult[]) => ({ rps: median(results.map((r) => r.rps)), p99_ms: median(results.map((r) => r.p99_ms)), errors: results.reduce((n, r) => n + r.errors + r.non2xx, 0) });
    const withMetrics = summary(rounds.on);
    const without = summary(rounds.off);
    process.stdout.write(
      JSON.stringify({
        bench: 'http-metrics',
        connections,
        seconds: SECONDS,
        rounds: METRICS_ROUNDS,
        users_me_metrics_off: without,
        users_me_metrics_on: withMetrics,
        rounds_rps: { off: rounds.off.map((r) => r.rps), on: rounds.on.map((r) => r.rps) },
        on_vs_off: Number((withMetrics.rps / without.rps).toFixed(3)),
      }) + '\n',
    );
  } finally {
    for (const api of started) await api.stop();
  }
}

main().catch((error) => {
  process.stderr.write(`bench:http failed: ${(error as Error).stack}\n`);
  process.exit(1);
});
