import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { aggregate, ensurePartitionsSince, ingestRecords, insertCompletedScan, insertCompletedScans, insertProviderRow } from './bench-ingestion';
import { upsertWordRangesSql } from '../../src/findings/query/search-word-ranges';
import { lexemesSql } from '../../src/findings/query/text-search';
import { generateRecords } from './finding-generator';
import { signUp, SignedUpUser } from './http-client';

/**
 * The tenants of the scale benchmark and how their history is written.
 *
 * Every provider's first scan goes through the real ingestion path
 * (ingestRecords: staging tables, INSERT_NEW_FINDINGS_SQL and the rest), which
 * writes its resources, tags, links, check facts, latest states and running
 * totals. Every later daily scan is written by one set-based statement per
 * day (REPLAY_DAY_SQL, as the owner role) that repeats the provider's first
 * scan under the new scan's id and start, doing what the ingestion insert
 * does: ids from finding_uuid (the scan's start in ms, scan id, uid), delta
 * and first_seen_at from finding_latest as it was, then finding_latest,
 * finding_counts, resource_finding_links, scan_ingestions and
 * finding_versions moved by the rows written. About 5 % of a scan's
 * findings differ in status from the first scan (as the generator's later
 * scans do), and about 1 % of uids a day are replaced by new ones (a
 * resource re-created), so every day has some `new` and `changed` findings.
 * The words of every scan's findings are recorded for text searches
 * (RECORD_WORDS_SQL). The scans of the last AGGREGATE_DAYS days (the latest
 * of every provider among them) are then aggregated by the real scan
 * aggregation.
 */
export interface ScaleOptions {
  /** All findings at full size. */
  findings: number;
  /** Findings when the first stage ends (the history grows from there to `findings`). */
  baselineFindings: number;
  tenants: number;
  /** Daily scans of every provider of the big and the ordinary tenants at full size. */
  days: number;
  /** Share of `findings` held by the big tenant. */
  bigShare: number;
  bigProviders: number;
  /** Share of the big tenant's findings held by its biggest provider (the one deleted at the end). */
  biggestProviderShare: number;
  smallFindings: number;
  /** Days of scans aggregated by the real scan aggregation, counted back from each tenant's latest. */
  aggregateDays: number;
}

export type TenantRole = 'big' | 'small' | 'other';

export interface TenantPlan {
  role: TenantRole;
  label: string;
  /** Findings per scan of each provider. */
  perScan: number[];
  /** Daily scans of each provider. */
  days: number;
  /** The calendar day (1 … options.days, the last being today) of its first scan. */
  firstCalendarDay: number;
}

/** The small tenant's history: this many daily scans of one provider, the last ending today. */
const SMALL_DAYS = 10;
/** 1 in CHURN_DAYS of a provider's uids is replaced by a new one every day. */
const CHURN_DAYS = 100;
/** Replayed days between two ANALYZEs: the tables grow by a tenth or less in that time. */
const ANALYZE_EVERY_DAYS = 10;
/** Share of a scan's findings whose status differs from the provider's first scan (as generateRecords' changeRate). */
const CHANGE_RATE = 0.05;

export function planTenants(options: ScaleOptions): TenantPlan[] {
  const { days } = options;
  const bigTotal = Math.round(options.findings * options.bigShare);
  // The biggest provider takes its share; the others' sizes fall off linearly from the second to the last.
  const rest = Array.from({ length: options.bigProviders - 1 }, (_, i) => options.bigProviders - 1 - i);
  const restSum = rest.reduce((a, b) => a + b, 0);
  const bigPerDay = bigTotal / days;
  const big: TenantPlan = {
    role: 'big',
    label: 'scale-big',
    perScan: [
      options.biggestProviderShare,
      ...rest.map((w) => ((1 - options.biggestProviderShare) * w) / restSum),
    ].map((share) => Math.max(1, Math.round(bigPerDay * share))),
    days,
    firstCalendarDay: 1,
  };
  const small: TenantPlan = {
    role: 'small',
    label: 'scale-small',
    perScan: [Math.max(1, Math.round(options.smallFindings / SMALL_DAYS))],
    days: SMALL_DAYS,
    firstCalendarDay: days - SMALL_DAYS + 1,
  };
  const others = Math.max(0, options.tenants - 2);
  const otherTotal = (options.findings - bigTotal - options.smallFindings) / Math.max(others, 1);
  const otherPerScan = Math.max(1, Math.round(otherTotal / days / 3));
  const plans = [big, small];
  for (let t = 0; t < others; t++) plans.push({ role: 'other', label: `scale-other-${t}`, perScan: [otherPerScan, otherPerScan, otherPerScan], days, firstCalendarDay: 1 });
  return plans;
}

/** How many of the daily scans of the full-history tenants the first stage writes: enough to hold `baselineFindings`. */
export function baselineDays(options: ScaleOptions): number {
  const perDay = (options.findings - options.smallFindings) / options.days;
  return Math.min(options.days, Math.max(1, Math.round((options.baselineFindings - options.smallFindings) / perDay)));
}

export interface ScaleTenant {
  plan: TenantPlan;
  user: SignedUpUser;
  providerIds: string[];
  /** Own day index (1-based) of the last scan written so far. */
  lastDay: number;
}

export interface StageResult {
  findings: number;
  /** Seconds spent on: the first scans through the real path, the replayed days, the aggregation, VACUUM ANALYZE. */
  seconds: { real_path: number; replay: number; aggregation: number; vacuum: number };
  aggregated_scans: number;
}

/**
 * $1 scan ids, $2 their providers, $3 their starts, $4 their own day
 * indexes, $5 CHURN_DAYS, $6 the change threshold on a 32-bit hash. Written
 * as the owner role, which row-level security does not restrict.
 */
const REPLAY_DAY_SQL = `
  WITH day_scans AS (
    SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::timestamptz[], $4::int[]) AS s(scan_id, provider_id, started_at, day)
  ), recorded AS (
    INSERT INTO scan_ingestions (scan_id, tenant_id, provider_id, started_at)
    SELECT s.scan_id, p.tenant_id, s.provider_id, s.started_at FROM day_scans s JOIN providers p ON p.id = s.provider_id
  ), versions AS (
    UPDATE finding_versions v SET version = v.version + 1 FROM day_scans s WHERE v.provider_id = s.provider_id
  ), day_rows AS (
    SELECT t.tenant_id, t.provider_id, s.scan_id, s.started_at, t.check_id, t.check_title, t.severity, t.service, t.region,
           t.resource_type, t.resource_uid, t.compliance, t.status_extended,
           t.uid || CASE WHEN x.generation > 0 THEN ':r' || x.generation ELSE '' END AS uid,
           CASE WHEN x.changed THEN CASE t.status WHEN 'FAIL' THEN 'PASS' ELSE 'FAIL' END ELSE t.status END AS status
      FROM day_scans s
      JOIN scale_templates t ON t.provider_id = s.provider_id
     CROSS JOIN LATERAL (SELECT (s.day - 1 + t.phase) / $5::int AS generation,
                                ('x' || substr(md5(s.day || ':' || t.uid), 1, 8))::bit(32)::bigint < $6::bigint AS changed) x
  ), inserted AS (
    INSERT INTO findings (id, tenant_id, scan_id, provider_id, uid, check_id, check_title, status, status_extended, severity,
                          delta, muted, first_seen_at, service, region, resource_type, resource_uid, compliance, inserted_at)
    SELECT finding_uuid((extract(epoch FROM r.started_at) * 1000)::bigint, r.scan_id, r.uid), r.tenant_id, r.scan_id, r.provider_id,
           r.uid, r.check_id, r.check_title, r.status,
           CASE WHEN r.status = 'PASS' THEN replace(r.status_extended, ' does not pass ', ' passes ')
                ELSE replace(r.status_extended, ' passes ', ' does not pass ') END,
           r.severity, CASE WHEN l.uid IS NULL THEN 'new' WHEN l.status <> r.status THEN 'changed' END, false,
           COALESCE(l.first_seen_at, r.started_at), r.service, r.region, r.resource_type, r.resource_uid, r.compliance, r.started_at
      FROM day_rows r
      LEFT JOIN finding_latest l ON l.tenant_id = r.tenant_id AND l.provider_id = r.provider_id AND l.uid = r.uid
    RETURNING id, tenant_id, provider_id, scan_id, uid, status, severity, muted, delta, resource_uid, inserted_at
  ), links AS (
    INSERT INTO resource_finding_links (tenant_id, finding_id, resource_id)
    SELECT i.tenant_id, i.id, res.id FROM inserted i
      JOIN resources res ON res.tenant_id = i.tenant_id AND res.provider_id = i.provider_id AND res.uid = i.resource_uid
  ), totals AS (
    INSERT INTO finding_counts AS c (tenant_id, provider_id, status, severity, muted, delta, findings)
    SELECT tenant_id, provider_id, status, severity, muted, COALESCE(delta, ''), count(*) FROM inserted
     GROUP BY tenant_id, provider_id, status, severity, muted, COALESCE(delta, '')
    ON CONFLICT (tenant_id, provider_id, status, severity, muted, delta) DO UPDATE SET findings = c.findings + EXCLUDED.findings
  ), latest_state AS (
    INSERT INTO finding_latest AS l (tenant_id, provider_id, uid, status, severity, first_seen_at, last_finding_id, last_scan_id)
    SELECT tenant_id, provider_id, uid, status, severity, inserted_at, id, scan_id FROM inserted
    ON CONFLICT (tenant_id, provider_id, uid) DO UPDATE
       SET status = EXCLUDED.status, severity = EXCLUDED.severity, last_finding_id = EXCLUDED.last_finding_id, last_scan_id = EXCLUDED.last_scan_id
     WHERE l.last_finding_id < EXCLUDED.last_finding_id
  )
  SELECT count(*)::int AS inserted FROM inserted`;

/**
 * What the scan aggregation records of each scan's words (recordSearchWords),
 * for every scan not recorded yet, at once: a provider's findings say what
 * its templates say, passing or not, so its words are those of the
 * templates' texts in both forms, seen from its first unrecorded scan to its
 * last. As the owner role.
 */
const RECORD_WORDS_SQL = `
  WITH unrecorded AS (
    UPDATE scan_ingestions SET words_recorded_at = now() WHERE words_recorded_at IS NULL RETURNING provider_id, started_at
  ), seen AS (
    SELECT provider_id, min(started_at) AS first_at, max(started_at) AS last_at FROM unrecorded GROUP BY provider_id
  ), words AS (
    SELECT DISTINCT t.tenant_id, t.provider_id, w.word
      FROM scale_templates t
     CROSS JOIN LATERAL unnest(${lexemesSql("replace(t.status_extended, ' does not pass ', ' passes ')")}
                               || ${lexemesSql("replace(t.status_extended, ' passes ', ' does not pass ')")}) AS w(word)
  )
  ${upsertWordRangesSql('SELECT w.tenant_id, w.provider_id, w.word, s.first_at, s.last_at FROM words w JOIN seen s ON s.provider_id = w.provider_id')}`;

/**
 * The first scans' findings, which the later days repeat, with each uid's
 * place in the churn cycle; $1 the first scans. Not an application table.
 * Logged, so a copy of the database (CREATE DATABASE … TEMPLATE) has its rows.
 */
const CREATE_TEMPLATES_SQL = `
  CREATE TABLE scale_templates AS
  SELECT f.tenant_id, f.provider_id, f.uid, f.check_id, f.check_title, f.status, f.status_extended, f.severity, f.service,
         f.region, f.resource_type, f.resource_uid, f.compliance,
         (('x' || substr(md5(f.uid), 1, 8))::bit(32)::bigint % ${CHURN_DAYS})::int AS phase
    FROM findings f WHERE f.scan_id = ANY($1::uuid[])`;

export class ScaleWorld {
  readonly tenants: ScaleTenant[] = [];
  /** When the last calendar day's scans start (three hours ago, so they have completed); earlier days 24 h apart. */
  private anchor = Math.floor((Date.now() - 3 * 3600_000) / 1000) * 1000;

  constructor(
    private readonly options: ScaleOptions,
    private readonly admin: Client,
    private readonly app: DataSource,
    private readonly log: (line: string) => void,
  ) {}

  /** The same tenants and history on a copy of this world's database, reached through `admin` and `app`; it grows on its own from here. */
  onCopy(admin: Client, app: DataSource): ScaleWorld {
    const copy = new ScaleWorld(this.options, admin, app, this.log);
    copy.anchor = this.anchor;
    copy.tenants.push(...this.tenants.map((t) => ({ ...t })));
    return copy;
  }

  /** Users (through the API: they are who the load signs in as) and providers of every tenant. */
  async createTenants(baseUrl: string): Promise<void> {
    for (const [t, plan] of planTenants(this.options).entries()) {
      const user = await signUp(baseUrl, plan.label);
      const providerIds: string[] = [];
      for (let p = 0; p < plan.perScan.length; p++) providerIds.push(await insertProviderRow(this.admin, user.tenantId, String(100000000000 + t * 100 + p)));
      this.tenants.push({ plan, user, providerIds, lastDay: 0 });
    }
    await ensurePartitionsSince(this.admin, this.startOf(0, 0, 1));
  }

  tenant(role: TenantRole): ScaleTenant {
    return this.tenants.find((t) => t.plan.role === role)!;
  }

  /** When scan `day` (own index) of provider `p` of tenant `t` started. */
  startOf(t: number, p: number, day: number): Date {
    const calendarDay = this.tenants[t] ? this.tenants[t].plan.firstCalendarDay + day - 1 : day;
    return new Date(this.anchor - (this.options.days - calendarDay) * 86_400_000 + t * 60_000 + p * 1000);
  }

  /** A tenant with a shorter history than the full one (the small tenant) is written whole at once. */
  private lastDayOf(tenant: ScaleTenant, untilDay: number): number {
    return tenant.plan.days < this.options.days ? tenant.plan.days : Math.min(untilDay, tenant.plan.days);
  }

  /** The latest scan's start of a tenant so far. */
  latestStart(tenant: ScaleTenant): Date {
    return this.startOf(this.tenants.indexOf(tenant), 0, tenant.lastDay);
  }

  /** Writes every tenant's scans up to own day `untilDay` (each tenant's own length at most), aggregates and vacuums. */
  async grow(untilDay: number): Promise<StageResult> {
    const seconds = { real_path: 0, replay: 0, aggregation: 0, vacuum: 0 };
    const firstScans: string[] = [];
    let started = Date.now();
    for (const [t, tenant] of this.tenants.entries()) {
      if (tenant.lastDay > 0 || untilDay < 1) continue;
      for (const [p, providerId] of tenant.providerIds.entries()) {
        const startedAt = this.startOf(t, p, 1);
        const scanId = await insertCompletedScan(this.admin, tenant.user.tenantId, providerId, startedAt);
        const scan = { tenantId: tenant.user.tenantId, scanId, providerId, scanStartedAt: startedAt };
        await ingestRecords(this.app, scan, generateRecords({ providerKey: `${tenant.plan.label}-${p}`, count: tenant.plan.perScan[p] }));
        firstScans.push(scanId);
      }
      tenant.lastDay = 1;
    }
    if (firstScans.length > 0) {
      await this.admin.query(CREATE_TEMPLATES_SQL, [firstScans]);
      await this.admin.query(`CREATE INDEX scale_templates_provider ON scale_templates (provider_id)`);
    }
    seconds.real_path = (Date.now() - started) / 1000;

    started = Date.now();
    // Statistics of the tables as they are now: without them (autovacuum may be off, or
    // not yet due) the replay's joins are planned for empty tables and slow down 30-fold.
    await this.admin.query('ANALYZE');
    let daysSinceAnalyze = 0;
    for (;;) {
      const due = this.tenants.filter((t) => t.lastDay > 0 && t.lastDay < this.lastDayOf(t, untilDay));
      if (due.length === 0) break;
      const planned: Array<{ tenantId: string; providerId: string; startedAt: Date; day: number }> = [];
      for (const tenant of due) {
        const day = tenant.lastDay + 1;
        const t = this.tenants.indexOf(tenant);
        for (const [p, providerId] of tenant.providerIds.entries()) planned.push({ tenantId: tenant.user.tenantId, providerId, startedAt: this.startOf(t, p, day), day });
        tenant.lastDay = day;
      }
      const scanIds = await insertCompletedScans(this.admin, planned);
      const scans = planned.map((s, i) => ({ ...s, scanId: scanIds[i] }));
      const { rows } = await this.admin.query(REPLAY_DAY_SQL, [
        scans.map((s) => s.scanId),
        scans.map((s) => s.providerId),
        scans.map((s) => s.startedAt),
        scans.map((s) => s.day),
        CHURN_DAYS,
        Math.floor(CHANGE_RATE * 2 ** 32),
      ]);
      this.log(`day ${Math.max(...scans.map((s) => s.day))}: ${rows[0].inserted} findings in ${scans.length} scans`);
      if (++daysSinceAnalyze === ANALYZE_EVERY_DAYS) {
        await this.admin.query('ANALYZE');
        daysSinceAnalyze = 0;
      }
    }
    if (this.tenants.some((t) => t.lastDay > 0)) await this.admin.query(RECORD_WORDS_SQL);
    // Fresh statistics, as after any large ingestion: the aggregation's plans depend on them.
    await this.admin.query('ANALYZE');
    seconds.replay = (Date.now() - started) / 1000;

    started = Date.now();
    const aggregated = await this.aggregateRecentScans();
    seconds.aggregation = (Date.now() - started) / 1000;
    started = Date.now();
    await this.admin.query('VACUUM ANALYZE');
    seconds.vacuum = (Date.now() - started) / 1000;
    const { rows } = await this.admin.query(`SELECT count(*)::bigint AS n FROM findings`);
    return { findings: Number(rows[0].n), seconds: roundAll(seconds), aggregated_scans: aggregated };
  }

  /** The real scan aggregation (summaries, finding groups, compliance) for each tenant's scans of its last aggregateDays days not yet aggregated. */
  private async aggregateRecentScans(): Promise<number> {
    let count = 0;
    for (const tenant of this.tenants) {
      const since = new Date(this.latestStart(tenant).getTime() - (this.options.aggregateDays - 1) * 86_400_000 - 3600_000);
      const { rows } = await this.admin.query(
        `SELECT scan_id FROM scan_ingestions WHERE tenant_id = $1 AND started_at >= $2 AND aggregated_at IS NULL ORDER BY started_at`,
        [tenant.user.tenantId, since],
      );
      for (const { scan_id } of rows) await aggregate(this.app, tenant.user.tenantId, scan_id);
      count += rows.length;
    }
    return count;
  }
}

function roundAll<T extends Record<string, number>>(values: T): T {
  return Object.fromEntries(Object.entries(values).map(([k, v]) => [k, Math.round(v * 10) / 10])) as T;
}
