import 'reflect-metadata';
import { AppModule } from '../../src/app.module';
import { loadConfig } from '../../src/config/app-config';
import { createHttpApp } from '../../src/http-app';
import { createBenchEnvironment } from '../support/bench-database';
import { createGroup, createProvider, createRole, inviteMember } from '../support/access-fixtures';
import { signUp } from '../support/http-client';
import { load, LoadResult } from '../support/load';

/**
 * `npm run bench:providers`: requests per second for `GET /api/v1/providers`
 * in a tenant of 200 providers, for an admin (unlimited visibility) and for a
 * limited role whose 10 provider groups cover the 200, in one run. The limited
 * list filters by visibility on every request; the goal is limited/admin >= 0.9.
 */
const PROVIDERS = 200;
const GROUPS = 10;
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const ROUNDS = 2;

async function main(): Promise<void> {
  const bench = await createBenchEnvironment('providers');
  const config = loadConfig({ ...process.env, ...bench.env, PORT: '0' });
  const app = await createHttpApp(config, AppModule);
  try {
    await app.listen({ host: '127.0.0.1', port: 0 });
    const base = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;

    const admin = await signUp(base, 'bench-admin');
    const providerIds: string[] = [];
    for (let i = 0; i < PROVIDERS; i++) providerIds.push(await createProvider(admin.client, 'aws', String(100000000000 + i)));
    const perGroup = PROVIDERS / GROUPS;
    const groupIds: string[] = [];
    for (let g = 0; g < GROUPS; g++) groupIds.push(await createGroup(admin.client, providerIds.slice(g * perGroup, (g + 1) * perGroup), `bench-${g}`));
    const limitedRole = await createRole(admin.client, {}, 'bench-limited', groupIds);
    const limited = await inviteMember(base, admin, [limitedRole], 'bench-limited');

    const url = `${base}/api/v1/providers`;
    const headers = (token: string) => ({ authorization: `Bearer ${token}`, accept: 'application/vnd.api+json' });
    const runs: { admin: LoadResult[]; limited: LoadResult[] } = { admin: [], limited: [] };
    // Warm both paths, then alternate, so drift during the run affects both alike.
    await load(url, CONNECTIONS, 1, headers(admin.access));
    await load(url, CONNECTIONS, 1, headers(limited.access));
    for (let round = 0; round < ROUNDS; round++) {
      runs.admin.push(await load(url, CONNECTIONS, SECONDS, headers(admin.access)));
      runs.limited.push(await load(url, CONNECTIONS, SECONDS, headers(limited.access)));
    }
    const failures = [...runs.admin, ...runs.limited].reduce((sum, run) => sum + run.errors + run.non2xx, 0);
    if (failures > 0) throw new Error(`${failures} requests failed or answered other than 2xx`);

    const adminRps = average(runs.admin.map((r) => r.rps));
    const limitedRps = average(runs.limited.map((r) => r.rps));
    process.stdout.write(
      JSON.stringify({
        bench: 'providers',
        admin_rps: adminRps,
        limited_rps: limitedRps,
        ratio: Number((limitedRps / adminRps).toFixed(3)),
        p99_ms: { admin: Math.max(...runs.admin.map((r) => r.p99_ms)), limited: Math.max(...runs.limited.map((r) => r.p99_ms)) },
        providers: PROVIDERS,
        groups: GROUPS,
        connections: CONNECTIONS,
        seconds: SECONDS * ROUNDS,
      }) + '\n',
    );
  } finally {
    await app.close();
    await bench.cleanup();
  }
}

function average(values: number[]): number {
  return Math.round(values.reduce((sum, value) => sum + value, 0) / values.length);
}

main().catch((error) => {
  process.stderr.write(`bench:providers failed: ${(error as Error).stack}\n`);
  process.exit(1);
});
