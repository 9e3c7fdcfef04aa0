import { startApiProcess } from '../support/api-process';
import { createBenchEnvironment } from '../support/bench-database';
import { load } from '../support/load';
import { signUp } from '../support/http-client';

/**
 * `npm run bench:http`: requests per second and p99 for an authenticated read
 * (JWT check, tenant transaction, principal query, handler query) beside the
 * bare /health/live in the same run, at 32 and 64 connections.
 */
const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);

async function main(): Promise<void> {
  const bench = await createBenchEnvironment('http');
  const api = await startApiProcess(bench.env);
  const base = api.baseUrl;
  try {
    const user = await signUp(base, 'bench');
    const auth = { authorization: `Bearer ${user.access}`, accept: 'application/vnd.api+json' };
    for (const connections of [32, 64]) {
      const live = await load(`${base}/health/live`, connections, SECONDS);
      const me = await load(`${base}/api/v1/users/me`, connections, SECONDS, auth);
      const tenants = await load(`${base}/api/v1/tenants`, connections, SECONDS, auth);
      process.stdout.write(
        JSON.stringify({
          bench: 'http',
          connections,
          seconds: SECONDS,
          health_live: live,
          users_me: me,
          tenants: tenants,
          users_me_vs_live: Number((me.rps / live.rps).toFixed(3)),
          tenants_vs_live: Number((tenants.rps / live.rps).toFixed(3)),
        }) + '\n',
      );
    }
  } finally {
    await api.stop();
    await bench.cleanup();
  }
}

main().catch((error) => {
  process.stderr.write(`bench:http failed: ${(error as Error).stack}\n`);
  process.exit(1);
});
