import { Client } from 'pg';
import { startApiProcess } from '../support/api-process';
import { createBenchEnvironment } from '../support/bench-database';
import { aggregate, appDataSource, ingestRecords, insertCompletedScan, insertProviderRow } from '../support/bench-ingestion';
import { generateRecords } from '../support/finding-generator';
import { signUp } from '../support/http-client';
import { FINDINGS_LATEST_PAGE, GROUPS_PAGE, overviewEndpoints } from '../support/overview-endpoints';

/**
 * `npm run bench:overview`: p50 of each overview endpoint for a tenant
 * holding SMALL findings and for one whose history has grown to LARGE
 * findings (more scans of its three providers, each ingested through the
 * real path and aggregated), measured in alternating rounds so that warm-up
 * and drift fall on both. Overviews and finding groups read the latest
 * scans' summaries, so the two should be close; the findings page with the
 * same filters as the finding groups page is measured beside it.
 */
const SMALL = Number(process.env.BENCH_SMALL ?? 10_000);
const LARGE = Number(process.env.BENCH_LARGE ?? 1_000_000);
const PER_SCAN = Number(process.env.BENCH_PER_SCAN ?? 20_000);
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 30);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const WEEK_AGO = new Date(Date.now() - 7 * 86_400_000).toISOString().slice(0, 10);
/** Name → path under /api/v1. */
const ENDPOINTS: Record<string, string> = {
  ...overviewEndpoints(WEEK_AGO),
  'finding-groups/latest': GROUPS_PAGE,
  'findings/latest (same filters)': FINDINGS_LATEST_PAGE,
};

async function main(): Promise<void> {
  const bench = await createBenchEnvironment('overview');
  const api = await startApiProcess(bench.env);
  const admin = new Client({ connectionString: bench.env.DATABASE_ADMIN_URL });
  await admin.connect();
  const app = await appDataSource(bench.env.DATABASE_URL, 1);
  try {
    /** A tenant with three providers, and a way to give each of them one more scan. */
    const tenant = async (label: string) => {
      const user = await signUp(api.baseUrl, label);
      const providers: string[] = [];
      for (let p = 0; p < 3; p++) providers.push(await insertProviderRow(admin, user.tenantId, String(100000000000 + p)));
      let stored = 0;
      let scanNumber = 0;
      const scanAll = async (perProvider: number) => {
        for (const [p, providerId] of providers.entries()) {
          const startedAt = new Date(Date.now() - 3600_000 + scanNumber++);
          const scanId = await insertCompletedScan(admin, user.tenantId, providerId, startedAt);
          const scan = { tenantId: user.tenantId, scanId, providerId, scanStartedAt: startedAt };
          stored += await ingestRecords(app, scan, generateRecords({ providerKey: `${label}-${p}`, count: perProvider, scanIndex: scanNumber }));
          await aggregate(app, user.tenantId, scanId);
        }
      };
      return { user, scanAll, stored: () => stored };
    };
    const small = await tenant('bench-small');
    await small.scanAll(Math.ceil(SMALL / 3));
    const large = await tenant('bench-large');
    const ingestStart = Date.now();
    while (large.stored() < LARGE) await large.scanAll(Math.min(PER_SCAN, Math.ceil((LARGE - large.stored()) / 3)));
    const ingestSeconds = (Date.now() - ingestStart) / 1000;
    await admin.query('VACUUM ANALYZE');

    const times: Record<'small' | 'large', Record<string, number[]>> = { small: {}, large: {} };
    for (let round = 0; round < ROUNDS; round++) {
      const order = round % 2 === 0 ? (['small', 'large'] as const) : (['large', 'small'] as const);
      for (const side of order) await measure(api.baseUrl, (side === 'small' ? small : large).user.access, times[side]);
    }
    const p50Small = medians(times.small);
    const p50Large = medians(times.large);

    process.stdout.write(
      JSON.stringify({
        bench: 'overview',
        small_findings: small.stored(),
        large_findings: large.stored(),
        large_ingest_seconds: Math.round(ingestSeconds),
        rounds: ROUNDS,
        p50_ms_small: p50Small,
        p50_ms_large: p50Large,
        large_vs_small: Object.fromEntries(Object.keys(ENDPOINTS).map((e) => [e, Number((p50Large[e] / p50Small[e]).toFixed(2))])),
        finding_groups_vs_findings_latest_large: Number((p50Large['finding-groups/latest'] / p50Large['findings/latest (same filters)']).toFixed(2)),
      }) + '\n',
    );
  } finally {
    await app.destroy();
    await admin.end();
    await api.stop();
    await bench.cleanup();
  }
}

/** REQUESTS sequential calls per endpoint, after a few to warm up, their latencies added to `times`. */
async function measure(baseUrl: string, token: string, times: Record<string, number[]>): Promise<void> {
  const headers = { authorization: `Bearer ${token}`, accept: 'application/vnd.api+json' };
  for (const [endpoint, path] of Object.entries(ENDPOINTS)) {
    const url = `${baseUrl}/api/v1/${path}`;
    for (let i = 0; i < REQUESTS + 5; i++) {
      const start = process.hrtime.bigint();
      const response = await fetch(url, { headers });
      await response.text();
      if (response.status !== 200) throw new Error(`${endpoint}: ${response.status}`);
      if (i >= 5) (times[endpoint] ??= []).push(Number(process.hrtime.bigint() - start) / 1e6);
    }
  }
}

function medians(times: Record<string, number[]>): Record<string, number> {
  return Object.fromEntries(
    Object.entries(times).map(([endpoint, list]) => {
      const sorted = [...list].sort((a, b) => a - b);
      return [endpoint, Number(sorted[Math.floor(sorted.length / 2)].toFixed(2))];
    }),
  );
}

main().catch((error) => {
  process.stderr.write(`bench:overview failed: ${(error as Error).stack}\n`);
  process.exit(1);
});
