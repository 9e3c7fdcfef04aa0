import { startApiProcess } from '../support/api-process';
import { createBenchEnvironment } from '../support/bench-database';
import { load } from '../support/load';
import { signUp } from '../support/http-client';

/**
 * `npm run bench:http`: requests per second and p99 for an authenticated read
 * (JWT check, tenant transaction, principal query, handler query) beside the
 * bare /health/live in the same run, at 32 and 64 connections; and the same
 * /users/me with an API key instead of the JWT (goal: at least 0.9 of it).
 */
const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);

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
  } finally {
    await api.stop();
    await bench.cleanup();
  }
}

main().catch((error) => {
  process.stderr.write(`bench:http failed: ${(error as Error).stack}\n`);
  process.exit(1);
});
