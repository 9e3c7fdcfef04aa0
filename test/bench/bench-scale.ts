import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { ApiProcess, startApiProcess } from '../support/api-process';
import { DataSource } from 'typeorm';
import { BENCH_SERVER_URL, BenchEnvironment, copyBenchEnvironment, createBenchEnvironment } from '../support/bench-database';
import { appDataSource } from '../support/bench-ingestion';
import { cursorWalk } from '../support/cursor-walk';
import { load, LoadResult } from '../support/load';
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
const SECONDS = env('BENCH_SCALE_SECONDS', 2);
const ROUNDS = env('BENCH_SCALE_ROUNDS', 3);
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

/** One database of the run, with the API process, connections and world that reach it. */
interface Side {
  bench: BenchEnvironment;
  appEnv: Record<string, string>;
  api: ApiProcess;
  admin: Client;
  app: DataSource;
}

async function openSide(bench: BenchEnvironment): Promise<Side> {
  // The run is longer than an access token lives by default.
  const appEnv = { ...bench.env, JWT_ACCESS_TTL_SECONDS: '14400' };
  const api = await startApiProcess(appEnv);
  const admin = new Client({ connectionString: bench.env.DATABASE_ADMIN_URL });
  await admin.connect();
  const app = await appDataSource(bench.env.DATABASE_URL, 1);
  return { bench, appEnv, api, admin, app };
}

async function closeSide(side: Side): Promise<void> {
  await side.admin.end().catch(() => undefined);
  await side.app.destroy().catch(() => undefined);
  await side.api.stop().catch(() => undefined);
}

interface StageReport {
  build: StageResult;
  figures: Record<string, Record<string, Figures>>;
  sizes: unknown;
  database_bytes_per_finding: number;
  plans: unknown;
}

async function main(): Promise<void> {
  const invalid = Object.entries({ ...OPTIONS, CONNECTIONS, SECONDS, WALK_PAGES, ROUNDS }).filter(([, v]) => !(Number.isFinite(v) && v > 0));
  if (invalid.length > 0) throw new Error(`invalid settings: ${invalid.map(([k]) => k).join(', ')}`);
  if (OPTIONS.baselineFindings >= FINDINGS || OPTIONS.tenants < 3 || OPTIONS.smallFindings >= OPTIONS.baselineFindings) {
    throw new Error('BENCH_SCALE_BASELINE_FINDINGS must be below BENCH_SCALE_FINDINGS and above BENCH_SCALE_SMALL_FINDINGS; at least 3 tenants');
  }
  // Both databases are kept until the end: the baseline's findings count too.
  const disk = await serverDisk(BENCH_SERVER_URL);
  const verdict = diskVerdict(
    FINDINGS + OPTIONS.baselineFindings,
    disk.freeBytes,
    disk.walBytes,
    `${FINDINGS} findings and the ${OPTIONS.baselineFindings}-finding baseline beside them`,
  );
  if (!verdict.enough) {
    process.stderr.write(`bench:scale: ${verdict.message} (${disk.dataDirectory}); nothing was built\n`);
    process.exit(2);
  }
  log(verdict.message);
  const plansDir = process.env.BENCH_SCALE_PLANS_DIR ?? mkdtempSync(join(tmpdir(), 'bench-scale-plans-'));
  log(`plans in ${plansDir}`);

  const runStarted = Date.now();
  const cleanups: Array<() => Promise<void>> = [];
  const open: Side[] = [];
  try {
    const baselineBench = await createBenchEnvironment('scale');
    cleanups.push(baselineBench.cleanup);
    let baselineSide = await openSide(baselineBench);
    open.push(baselineSide);
    const baselineWorld = new ScaleWorld(OPTIONS, baselineSide.admin, baselineSide.app, log);
    await baselineWorld.createTenants(baselineSide.api.baseUrl);
    const emptyBytes = await databaseBytes(baselineSide.admin);
    const report = async (side: Side, build: StageResult) => ({
      build,
      sizes: await sizesPerMillion(side.admin, build.findings),
      database_bytes_per_finding: Math.round(((await databaseBytes(side.admin)) - emptyBytes) / build.findings),
    });

    log(`baseline: building to day ${baselineDays(OPTIONS)}`);
    const baselineStage = await report(baselineSide, await baselineWorld.grow(baselineDays(OPTIONS)));
    log(`baseline: ${baselineStage.build.findings} findings (${JSON.stringify(baselineStage.build.seconds)} s)`);

    // The full size grows on a copy of the baseline database, so both can be measured in alternating rounds.
    await closeSide(open.pop()!);
    const copyStarted = Date.now();
    const fullBench = await copyBenchEnvironment(baselineBench, 'scale_full');
    cleanups.push(fullBench.cleanup);
    const copySeconds = Math.round((Date.now() - copyStarted) / 100) / 10;
    baselineSide = await openSide(baselineBench);
    open.push(baselineSide);
    const fullSide = await openSide(fullBench);
    open.push(fullSide);
    const fullWorld = baselineWorld.onCopy(fullSide.admin, fullSide.app);
    log(`full: copied the baseline database in ${copySeconds} s; building to day ${OPTIONS.days}`);
    const fullStage = await report(fullSide, await fullWorld.grow(OPTIONS.days));
    log(`full: ${fullStage.build.findings} findings (${JSON.stringify(fullStage.build.seconds)} s); measuring`);

    const pair = { baseline: { side: baselineSide, world: baselineWorld }, full: { side: fullSide, world: fullWorld } };
    const figures: Record<Stage, Record<string, Record<string, Figures>>> = { baseline: {}, full: {} };
    const ratios: Record<string, Record<string, number | null>> = {};
    for (const role of ['big', 'small'] as const) {
      const measured = await measurePair(pair, role);
      figures.baseline[role] = measured.baseline;
      figures.full[role] = measured.full;
      ratios[role] = measured.ratios;
    }
    const stages: Record<Stage, StageReport> = {
      baseline: { ...baselineStage, figures: figures.baseline, plans: await capturePlans(baselineSide.appEnv, baselineWorld, join(plansDir, 'baseline')) },
      full: { ...fullStage, figures: figures.full, plans: await capturePlans(fullSide.appEnv, fullWorld, join(plansDir, 'full')) },
    };

    log('deleting the biggest provider under load');
    await closeSide(baselineSide);
    open.splice(open.indexOf(baselineSide), 1);
    const deletion = await deleteUnderLoad(fullSide, fullWorld);

    const failed = Object.values(stages).flatMap((s) => Object.values(s.figures).flatMap((byName) => Object.values(byName))).reduce((n, f) => n + f.failed, 0);
    process.stdout.write(
      JSON.stringify({
        bench: 'scale',
        written_by:
          "first scan of every provider through the real ingestion path; later daily scans by one set-based INSERT … SELECT per day into the same tables (owner role), doing what the ingestion insert does, and their words recorded set-based as the aggregation records them; each tenant's last aggregate_days days of scans aggregated by the real scan aggregation; the full size grown on a copy of the baseline database",
        findings: fullStage.build.findings,
        baseline_findings: baselineStage.build.findings,
        tenants: OPTIONS.tenants,
        days: OPTIONS.days,
        aggregate_days: OPTIONS.aggregateDays,
        big_tenant_findings: await tenantFindings(fullSide.admin, fullWorld.tenant('big')),
        connections: CONNECTIONS,
        seconds_each: SECONDS,
        rounds: ROUNDS,
        walk_pages: WALK_PAGES,
        p99_goal: P99_GOAL,
        big_p99_full_over_baseline: ratios.big,
        small_p99_full_over_baseline: ratios.small,
        big_over_goal: Object.entries(ratios.big).filter(([, r]) => r === null || r > P99_GOAL).map(([name]) => name),
        failed_requests: failed,
        copy_seconds: copySeconds,
        stages,
        deletion,
        plans_dir: plansDir,
        total_seconds: Math.round((Date.now() - runStarted) / 1000),
      }) + '\n',
    );
  } finally {
    for (const side of open.reverse()) await closeSide(side);
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
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
    // A text search with no date window (search-word-ranges.ts), and one over the tenant's latest day.
    search: `filter[search]=${SEARCH}`,
    search_latest_day: `filter[search]=${SEARCH}&filter[inserted_at__gte]=${day(latest.getTime())}&filter[inserted_at__lte]=${day(latest.getTime())}`,
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

/**
 * Every endpoint of a tenant against both databases: a second of warm-up on
 * each, then ROUNDS rounds of SECONDS at CONNECTIONS, baseline and full size
 * alternating, so both see the same machine. A round starts no request after
 * its SECONDS and measures every one it started. A side's figures are the
 * medians of its rounds (requests and failures summed); the ratio is the
 * median of the rounds' p99 ratios.
 */
async function measurePair(
  pair: Record<Stage, { side: Side; world: ScaleWorld }>,
  role: 'big' | 'small',
): Promise<{ baseline: Record<string, Figures>; full: Record<string, Figures>; ratios: Record<string, number | null> }> {
  const targets = (['baseline', 'full'] as const).map((stage) => {
    const { side, world } = pair[stage];
    const tenant = world.tenant(role);
    return { stage, baseUrl: side.api.baseUrl, headers: headersOf(tenant), endpoints: endpointsOf(world, tenant) };
  });
  const result = { baseline: {} as Record<string, Figures>, full: {} as Record<string, Figures>, ratios: {} as Record<string, number | null> };
  for (const name of Object.keys(targets[0].endpoints)) {
    // A page is a walk of one page: every request started within a round is measured to its end. (A load
    // tool that drops the requests still open when time runs out measured nothing of a page slower than
    // the round at 32 connections.)
    const run = (target: (typeof targets)[number], seconds: number) => {
      const endpoint = target.endpoints[name];
      return cursorWalk(target.baseUrl, `/api/v1/${endpoint.path}`, CONNECTIONS, seconds, target.headers, endpoint.kind === 'walk' ? WALK_PAGES : 1);
    };
    for (const target of targets) await run(target, 1);
    const rounds: Record<Stage, Array<LoadResult & { deepest_page?: number }>> = { baseline: [], full: [] };
    for (let r = 0; r < ROUNDS; r++) for (const target of targets) rounds[target.stage].push(await run(target, SECONDS));
    for (const target of targets) {
      const runs = rounds[target.stage];
      const figures: Figures = {
        requests: runs.reduce((n, x) => n + x.requests, 0),
        p50_ms: median(runs.map((x) => x.p50_ms)),
        p99_ms: median(runs.map((x) => x.p99_ms)),
        rps: median(runs.map((x) => x.rps)),
        failed: runs.reduce((n, x) => n + x.errors + x.non2xx, 0),
        ...(target.endpoints[name].kind === 'walk' ? { deepest_page: Math.min(...runs.map((x) => x.deepest_page ?? 0)) } : {}),
      };
      result[target.stage][name] = figures;
      if (figures.failed > 0) log(`${target.stage} ${role} ${name}: ${figures.failed} failed requests`);
    }
    // A round that completed nothing on either side has no p99 to compare (it counts among failed_requests only if requests failed).
    const perRound = rounds.full.flatMap((full, r) => (full.requests > 0 && rounds.baseline[r].requests > 0 ? [full.p99_ms / Math.max(rounds.baseline[r].p99_ms, 1)] : []));
    result.ratios[name] = perRound.length > 0 ? Number(median(perRound).toFixed(2)) : null;
  }
  return result;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
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
async function deleteUnderLoad(side: Side, world: ScaleWorld) {
  const { admin, api, appEnv } = side;
  const worker = await spawnWorker({ ...appEnv, LOG_LEVEL: 'warn' });
  try {
    return await deleteWithWorker(admin, api, world);
  } finally {
    worker.child.kill('SIGTERM');
    await worker.exited;
  }
}

async function deleteWithWorker(admin: Client, api: ApiProcess, world: ScaleWorld) {
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
