import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { ApiProcess, startApiProcess } from '../support/api-process';
import { BENCH_SERVER_URL, createBenchEnvironment } from '../support/bench-database';
import { appDataSource } from '../support/bench-ingestion';
import { cursorWalk, WalkResult } from '../support/cursor-walk';
import { load } from '../support/load';
import { GROUPS_PAGE, overviewEndpoints } from '../support/overview-endpoints';
import { deleteProviderUnderLoad } from '../support/provider-deletion';
import { diskVerdict, serverDisk } from '../support/scale-disk';
import { baselineDays, ScaleOptions, ScaleTenant, ScaleWorld, StageResult } from '../support/scale-world';
import { CaptureReader, explainStatements } from '../support/statement-plans';
import { spawnWorker } from '../support/tasks-fixture';

/**
 * `npm run bench:scale`: the API at the size real tenants reach.
 * BENCH_SCALE_FINDINGS (10,000,000) findings in BENCH_SCALE_TENANTS (10)
 * tenants: one holds 60 % of them over BENCH_SCALE_DAYS (90) daily scans of
 * 20 providers whose sizes fall off from the biggest (a sixth of the tenant);
 * one holds 10,000 (ten daily scans of one provider); the others share the
 * rest (three providers each, daily scans). How the rows are written: see
 * scale-world.ts (first scans through the real ingestion path, later days
 * replayed set-based into the same tables, recent scans aggregated for real).
 *
 * The history is built in two stages: up to BENCH_SCALE_BASELINE_FINDINGS
 * (a tenth of the total by default) and then to the full size, and after
 * each, at 32 connections, for the big tenant and the small one: the
 * findings page (page numbers) and its cursor walk without and with each
 * filter, the latest findings, metadata, resources and finding groups and
 * every overview; EXPLAIN (ANALYZE, BUFFERS) of the statements each of them
 * ran (BENCH_SCALE_PLANS_DIR); table and index sizes. Then the big tenant's
 * biggest provider is deleted through the API (a worker runs the task) while
 * another tenant's findings page is loaded. Before anything is built, the
 * disk the server keeps its data on must hold the estimated size.
 */
const env = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const FINDINGS = env('BENCH_SCALE_FINDINGS', 10_000_000);
const OPTIONS: ScaleOptions = {
  findings: FINDINGS,
  baselineFindings: env('BENCH_SCALE_BASELINE_FINDINGS', Math.round(FINDINGS / 10)),
  tenants: env('BENCH_SCALE_TENANTS', 10),
  days: env('BENCH_SCALE_DAYS', 90),
  bigShare: 0.6,
  bigProviders: 20,
  biggestProviderShare: 1 / 6,
  smallFindings: env('BENCH_SCALE_SMALL_FINDINGS', 10_000),
  aggregateDays: env('BENCH_SCALE_AGGREGATE_DAYS', 7),
};
const CONNECTIONS = env('BENCH_SCALE_CONNECTIONS', 32);
const DELETE_CONNECTIONS = env('BENCH_SCALE_DELETE_CONNECTIONS', 8);
const SECONDS = env('BENCH_SCALE_SECONDS', 3);
const WALK_PAGES = env('BENCH_SCALE_WALK_PAGES', 20);
const PAGE_SIZE = 50;
const SEARCH = 's3-res-42';
/** The goal: a page at full size answers p99 within this factor of the same page at the baseline. */
const P99_GOAL = 1.5;

type Stage = 'baseline' | 'full';
interface Endpoint {
  kind: 'page' | 'walk';
  path: string;
}
interface Figures {
  requests: number;
  p50_ms: number;
  p99_ms: number;
  rps: number;
  failed: number;
  deepest_page?: number;
}

function log(line: string): void {
  process.stderr.write(`bench:scale: ${line}\n`);
}

async function main(): Promise<void> {
  const invalid = Object.entries({ ...OPTIONS, CONNECTIONS, SECONDS, WALK_PAGES }).filter(([, v]) => !(Number.isFinite(v) && v > 0));
  if (invalid.length > 0) throw new Error(`invalid settings: ${invalid.map(([k]) => k).join(', ')}`);
  if (OPTIONS.baselineFindings >= FINDINGS || OPTIONS.tenants < 3 || OPTIONS.smallFindings >= OPTIONS.baselineFindings) {
    throw new Error('BENCH_SCALE_BASELINE_FINDINGS must be below BENCH_SCALE_FINDINGS and above BENCH_SCALE_SMALL_FINDINGS; at least 3 tenants');
  }
  const disk = await serverDisk(BENCH_SERVER_URL);
  const verdict = diskVerdict(FINDINGS, disk.freeBytes, disk.walBytes);
  if (!verdict.enough) {
    process.stderr.write(`bench:scale: ${verdict.message} (${disk.dataDirectory}); nothing was built\n`);
    process.exit(2);
  }
  log(verdict.message);
  const plansDir = process.env.BENCH_SCALE_PLANS_DIR ?? mkdtempSync(join(tmpdir(), 'bench-scale-plans-'));
  log(`plans in ${plansDir}`);

  const runStarted = Date.now();
  const bench = await createBenchEnvironment('scale');
  // The run is longer than an access token lives by default.
  const appEnv = { ...bench.env, JWT_ACCESS_TTL_SECONDS: '14400' };
  const stops: Array<() => Promise<void>> = [];
  const admin = new Client({ connectionString: bench.env.DATABASE_ADMIN_URL });
  try {
    const api = await startApiProcess(appEnv);
    stops.push(api.stop);
    await admin.connect();
    const app = await appDataSource(bench.env.DATABASE_URL, 1);
    stops.push(() => app.destroy());
    const world = new ScaleWorld(OPTIONS, admin, app, log);
    await world.createTenants(api.baseUrl);
    const emptyBytes = await databaseBytes(admin);

    const stages: Partial<Record<Stage, { build: StageResult; figures: Record<string, Record<string, Figures>>; sizes: unknown; database_bytes_per_finding: number; plans: unknown }>> = {};
    for (const [stage, untilDay] of [['baseline', baselineDays(OPTIONS)], ['full', OPTIONS.days]] as const) {
      log(`${stage}: building to day ${untilDay}`);
      const build = await world.grow(untilDay);
      log(`${stage}: ${build.findings} findings (${JSON.stringify(build.seconds)} s); measuring`);
      const figures: Record<string, Record<string, Figures>> = {};
      for (const role of ['big', 'small'] as const) figures[role] = await measureTenant(api, world, world.tenant(role));
      const plans = await capturePlans(appEnv, world, join(plansDir, stage));
      stages[stage] = {
        build,
        figures,
        sizes: await sizesPerMillion(admin, build.findings),
        database_bytes_per_finding: Math.round(((await databaseBytes(admin)) - emptyBytes) / build.findings),
        plans,
      };
    }

    log('deleting the biggest provider under load');
    const deletion = await deleteUnderLoad(admin, api, world, appEnv, stops);

    const ratios: Record<string, Record<string, number | null>> = {};
    for (const role of ['big', 'small']) {
      ratios[role] = Object.fromEntries(
        Object.entries(stages.full!.figures[role]).map(([name, full]) => {
          const baseline = stages.baseline!.figures[role][name];
          // A run that completed nothing has no p99 to compare (it counts among failed_requests only if requests failed).
          return [name, full.requests > 0 && baseline.requests > 0 ? ratio(full.p99_ms, baseline.p99_ms) : null];
        }),
      );
    }
    const failed = Object.values(stages).flatMap((s) => Object.values(s!.figures).flatMap((byName) => Object.values(byName))).reduce((n, f) => n + f.failed, 0);
    process.stdout.write(
      JSON.stringify({
        bench: 'scale',
        written_by:
          "first scan of every provider through the real ingestion path; later daily scans by one set-based INSERT … SELECT per day into the same tables (owner role), doing what the ingestion insert does; each tenant's last aggregate_days days of scans aggregated by the real scan aggregation",
        findings: stages.full!.build.findings,
        baseline_findings: stages.baseline!.build.findings,
        tenants: OPTIONS.tenants,
        days: OPTIONS.days,
        aggregate_days: OPTIONS.aggregateDays,
        big_tenant_findings: await tenantFindings(admin, world.tenant('big')),
        connections: CONNECTIONS,
        seconds_each: SECONDS,
        walk_pages: WALK_PAGES,
        p99_goal: P99_GOAL,
        big_p99_full_over_baseline: ratios.big,
        small_p99_full_over_baseline: ratios.small,
        big_over_goal: Object.entries(ratios.big).filter(([, r]) => r === null || r > P99_GOAL).map(([name]) => name),
        failed_requests: failed,
        stages,
        deletion,
        plans_dir: plansDir,
        total_seconds: Math.round((Date.now() - runStarted) / 1000),
      }) + '\n',
    );
  } finally {
    await admin.end().catch(() => undefined);
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    await bench.cleanup();
  }
}

/** What is measured for a tenant, name → request; filters and windows are taken from its own data. */
function endpointsOf(world: ScaleWorld, tenant: ScaleTenant): Record<string, Endpoint> {
  const latest = world.latestStart(tenant);
  const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
  const window = `filter[inserted_at__gte]=${day(latest.getTime() - 6 * 86_400_000)}&filter[inserted_at__lte]=${day(latest.getTime())}`;
  const filters: Record<string, string> = {
    unfiltered: '',
    status: 'filter[status]=FAIL',
    severity: 'filter[severity__in]=critical,high',
    provider: `filter[provider]=${tenant.providerIds[Math.min(1, tenant.providerIds.length - 1)]}`,
    check: 'filter[check_id]=ec2_check_03',
    region: 'filter[region]=eu-west-1',
    date_range: window,
    // The findings list takes a text search only with a date or scan filter (finding-selection.ts), and reads
    // the text of every finding in it: the search is bounded to the tenant's latest day, the same at both sizes.
    search: `filter[search]=${SEARCH}&filter[inserted_at__gte]=${day(latest.getTime())}&filter[inserted_at__lte]=${day(latest.getTime())}`,
    delta_new: 'filter[delta]=new',
  };
  const endpoints: Record<string, Endpoint> = {};
  for (const [name, filter] of Object.entries(filters)) {
    const query = `${filter ? `${filter}&` : ''}page[size]=${PAGE_SIZE}`;
    endpoints[`findings ${name}`] = { kind: 'page', path: `findings?${query}` };
    endpoints[`findings ${name} cursor walk`] = { kind: 'walk', path: `findings?${query}&page[cursor]=` };
  }
  Object.assign(endpoints, {
    'findings/latest': { kind: 'page', path: `findings/latest?page[size]=${PAGE_SIZE}` },
    'findings/latest search': { kind: 'page', path: `findings/latest?filter[search]=${SEARCH}&page[size]=${PAGE_SIZE}` },
    'findings/metadata/latest': { kind: 'page', path: 'findings/metadata/latest' },
    'resources/latest': { kind: 'page', path: `resources/latest?page[size]=${PAGE_SIZE}` },
    'finding-groups/latest': { kind: 'page', path: GROUPS_PAGE },
  });
  for (const [name, path] of Object.entries(overviewEndpoints(day(latest.getTime() - 6 * 86_400_000)))) endpoints[`overviews/${name}`] = { kind: 'page', path };
  return endpoints;
}

function headersOf(tenant: ScaleTenant): Record<string, string> {
  return { authorization: `Bearer ${tenant.user.access}`, accept: 'application/vnd.api+json' };
}

/** Every endpoint at CONNECTIONS for SECONDS, after a second of warm-up on the same request. */
async function measureTenant(api: ApiProcess, world: ScaleWorld, tenant: ScaleTenant): Promise<Record<string, Figures>> {
  const headers = headersOf(tenant);
  const figures: Record<string, Figures> = {};
  for (const [name, endpoint] of Object.entries(endpointsOf(world, tenant))) {
    const path = `/api/v1/${endpoint.path}`;
    const run = (seconds: number) =>
      endpoint.kind === 'walk' ? cursorWalk(api.baseUrl, path, CONNECTIONS, seconds, headers, WALK_PAGES) : load(`${api.baseUrl}${path}`, CONNECTIONS, seconds, headers);
    await run(1);
    const result = await run(SECONDS);
    figures[name] = {
      requests: result.requests,
      p50_ms: result.p50_ms,
      p99_ms: result.p99_ms,
      rps: result.rps,
      failed: result.errors + result.non2xx,
      ...(endpoint.kind === 'walk' ? { deepest_page: (result as WalkResult).deepest_page } : {}),
    };
    if (figures[name].failed > 0) log(`${tenant.plan.label} ${name}: ${figures[name].failed} failed requests`);
  }
  return figures;
}

/**
 * A second API process that records the statements it sends
 * (sql-capture.ts): each endpoint requested once (a walk's second page, the
 * one its cursor link gives), and what it ran explained into `dir`.
 */
async function capturePlans(appEnv: Record<string, string>, world: ScaleWorld, dir: string): Promise<Record<string, number>> {
  const captureFile = join(mkdtempSync(join(tmpdir(), 'bench-scale-sql-')), 'statements.jsonl');
  const capture = new CaptureReader(captureFile);
  const api = await startApiProcess({
    ...appEnv,
    NODE_OPTIONS: `--require ${join(__dirname, '..', 'support', 'sql-capture.js')}`,
    SQL_CAPTURE_FILE: captureFile,
  });
  const slowest: Record<string, number> = {};
  try {
    for (const role of ['big', 'small'] as const) {
      const tenant = world.tenant(role);
      for (const [name, endpoint] of Object.entries(endpointsOf(world, tenant))) {
        let path = `/api/v1/${endpoint.path}`;
        capture.next();
        let response = await fetch(`${api.baseUrl}${path}`, { headers: headersOf(tenant) });
        if (endpoint.kind === 'walk') {
          const next = ((await response.json()) as { links?: { next?: string | null } }).links?.next;
          if (next) {
            capture.next();
            path = next;
            response = await fetch(`${api.baseUrl}${path}`, { headers: headersOf(tenant) });
          }
        }
        await response.arrayBuffer().catch(() => undefined);
        const file = join(dir, role, `${name.replace(/[^a-z0-9_-]+/gi, '_')}.txt`);
        slowest[`${role} ${name}`] = (await explainStatements(appEnv.DATABASE_URL, capture.next(), file)).slowest_ms;
      }
    }
  } finally {
    await api.stop();
  }
  return slowest;
}

/** The big tenant's biggest provider deleted through the API while another tenant's filtered findings page is loaded. */
async function deleteUnderLoad(admin: Client, api: ApiProcess, world: ScaleWorld, appEnv: Record<string, string>, stops: Array<() => Promise<void>>) {
  const worker = await spawnWorker({ ...appEnv, LOG_LEVEL: 'warn' });
  stops.push(async () => {
    worker.child.kill('SIGTERM');
    await worker.exited;
  });
  const victim = world.tenant('big');
  const reader = world.tenants.find((t) => t.plan.role === 'other') ?? world.tenant('small');
  const providerId = victim.providerIds[0];
  const { rows } = await admin.query(`SELECT count(*)::int AS n FROM findings WHERE provider_id = $1`, [providerId]);
  const url = `${api.baseUrl}/api/v1/findings?filter[severity__in]=critical,high&filter[status]=FAIL&page[size]=${PAGE_SIZE}`;
  const headers = headersOf(reader);
  await load(url, DELETE_CONNECTIONS, SECONDS, headers);
  const before = await load(url, DELETE_CONNECTIONS, SECONDS * 2, headers);
  const { task, seconds, during } = await deleteProviderUnderLoad(admin, { baseUrl: api.baseUrl, token: victim.user.access, providerId }, url, DELETE_CONNECTIONS, headers);
  return {
    provider_findings: rows[0].n,
    reader_findings: await tenantFindings(admin, reader),
    connections: DELETE_CONNECTIONS,
    seconds: Math.round(seconds),
    vacuum_seconds: task.result.vacuum?.seconds ?? null,
    deleted: task.result.deleted,
    before,
    during,
    during_p99_ratio: ratio(during.p99_ms, before.p99_ms),
  };
}

async function tenantFindings(admin: Client, tenant: ScaleTenant): Promise<number> {
  const { rows } = await admin.query(`SELECT coalesce(sum(findings), 0)::bigint AS n FROM finding_counts WHERE tenant_id = $1`, [tenant.user.tenantId]);
  return Number(rows[0].n);
}

/** The scratch database's size, less the bench's own template table. */
async function databaseBytes(admin: Client): Promise<number> {
  const { rows } = await admin.query(
    `SELECT pg_database_size(current_database()) - coalesce(pg_total_relation_size(to_regclass('scale_templates')), 0) AS bytes`,
  );
  return Number(rows[0].bytes);
}

/** Heap and index megabytes per million findings stored, of the tables that grow with the findings (partitions summed). */
async function sizesPerMillion(admin: Client, findings: number): Promise<Record<string, { table_mb: number; indexes_mb: number }>> {
  const { rows } = await admin.query(
    `SELECT t.name, sum(pg_table_size(p.relid))::bigint AS table_bytes, sum(pg_indexes_size(p.relid))::bigint AS index_bytes
       FROM unnest(ARRAY['findings', 'resource_finding_links', 'finding_latest', 'resources', 'finding_counts', 'scan_summaries',
                         'scan_overview_summaries', 'finding_group_summaries', 'scan_check_summaries', 'compliance_requirement_summaries']) AS t(name)
      -- A plain table is its own only leaf; a partitioned parent has no storage of its own.
      CROSS JOIN LATERAL (SELECT relid FROM pg_partition_tree(t.name::regclass) WHERE isleaf UNION SELECT t.name::regclass) p
      GROUP BY t.name`,
  );
  const perMillion = (bytes: string) => Math.round((Number(bytes) / 1024 ** 2 / (findings / 1e6)) * 10) / 10;
  return Object.fromEntries(rows.map((r) => [r.name, { table_mb: perMillion(r.table_bytes), indexes_mb: perMillion(r.index_bytes) }]));
}

function ratio(a: number, b: number): number {
  return Number((a / Math.max(b, 1)).toFixed(2));
}

main().catch((error) => {
  process.stderr.write(`bench:scale failed: ${(error as Error).stack}\n`);
  process.exit(1);
});
