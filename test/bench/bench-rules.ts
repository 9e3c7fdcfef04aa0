import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { loadConfig } from '../../src/config/app-config';
import { withConfig } from '../../src/config/config.module';
import { DatabaseModule } from '../../src/database/database.module';
import { tenantIsolation } from '../../src/database/rls-policy-sql';
import { type Principal, tenantManager } from '../../src/database/tenant-context';
import { TenantDatabase } from '../../src/database/tenant-database';
import { RlsRulesModule } from '../../src/rls-rules/rls-rules.module';
import { RlsRulesService } from '../../src/rls-rules/rls-rules.service';
import { RowFilterService } from '../../src/rls-rules/row-filter.service';
import { createBenchEnvironment } from '../support/bench-database';

/**
 * `npm run bench:rules`: a findings-page read (the page of 10 and its count
 * capped as the findings page caps it, in a read-only tenant transaction,
 * predicateFor called as a reader calls it)
 * over 50,000 rows of a findings-shaped table, for a user to whom none of the
 * tenant's 20 rules apply and for one to whom all 20 do, in one run.
 *
 * The findings page did not exist when this was written: re-point the
 * measured operation at it (over HTTP) once it does.
 */
const ROWS = Number(process.env.BENCH_ROWS ?? 50000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);
const ROUNDS = 3;
const TABLE = 'bench_findings';
const COUNT_CAP = 10_000;

@Module({ imports: [DatabaseModule, RlsRulesModule] })
class BenchRoot {}

interface Arranged {
  tenantId: string;
  ownerId: string;
  providerIds: string[];
  /** Holders see every row through 20 rules (the cost of applying rules, same result). */
  keepAll: string;
  /** Holders see about 30% of the rows through 20 rules (fewer matches, so more rows read per page). */
  selective: string;
  /** No rule applies to holders. */
  unfiltered: string;
}

async function arrange(admin: Client): Promise<Arranged> {
  const tenantId = randomUUID();
  const otherTenantId = randomUUID();
  const ownerId = randomUUID();
  const providerIds = [randomUUID(), randomUUID(), randomUUID(), randomUUID()];
  const [keepAll, selective, unfiltered] = [randomUUID(), randomUUID(), randomUUID()];
  await admin.query(`INSERT INTO tenants (id, name) VALUES ($1, 'bench'), ($2, 'bench-other')`, [tenantId, otherTenantId]);
  await admin.query(`INSERT INTO users (id, name, email, password) VALUES ($1, 'bench owner', $2, 'not-a-hash')`, [ownerId, `bench-${ownerId}@example.com`]);
  await admin.query(`INSERT INTO memberships (id, tenant_id, user_id, role) VALUES ($1, $2, $3, 'owner')`, [randomUUID(), tenantId, ownerId]);
  await admin.query(`INSERT INTO roles (id, tenant_id, name) VALUES ($1, $4, 'keep-all'), ($2, $4, 'selective'), ($3, $4, 'unfiltered')`, [
    keepAll,
    selective,
    unfiltered,
    tenantId,
  ]);

  await admin.query(`CREATE TABLE ${TABLE} (
    id uuid PRIMARY KEY, tenant_id uuid NOT NULL, scan_id uuid NOT NULL, provider_id uuid NOT NULL,
    uid varchar(300) NOT NULL, check_id varchar(100) NOT NULL, status varchar(6) NOT NULL, severity varchar(13) NOT NULL,
    delta varchar(7), muted boolean NOT NULL, service varchar(100) NOT NULL, region varchar(100) NOT NULL,
    resource_type varchar(150) NOT NULL, resource_uid text NOT NULL, inserted_at timestamptz NOT NULL)`);
  for (const sql of tenantIsolation(TABLE)) await admin.query(sql);
  await admin.query(`CREATE INDEX ${TABLE}_page ON ${TABLE} (tenant_id, inserted_at DESC, id)`);
  for (const [tenant, rows, providers] of [
    [tenantId, ROWS, providerIds],
    [otherTenantId, ROWS / 5, [randomUUID(), randomUUID(), randomUUID(), randomUUID()]],
  ] as const) {
    await admin.query(
      `INSERT INTO ${TABLE}
       SELECT gen_random_uuid(), $1, $2, ($3::uuid[])[1 + g % 4], 'finding-' || g, 'check_' || (g % 300),
              (ARRAY['PASS', 'FAIL', 'MANUAL'])[1 + g % 3], (ARRAY['critical', 'high', 'medium', 'low', 'informational'])[1 + g % 5],
              CASE WHEN g % 7 = 0 THEN 'new' END, g % 11 = 0, 'svc-' || (g % 40), 'region-' || (g % 16),
              'type-' || (g % 25), 'res-' || (g % 5000), now() - make_interval(secs => g)
         FROM generate_series(1, $4::int) AS g`,
      [tenant, randomUUID(), providers, rows],
    );
  }
  await admin.query(`ANALYZE ${TABLE}`);
  return { tenantId, ownerId, providerIds, keepAll, selective, unfiltered };
}

interface BenchRule {
  clause: string;
  group: string | null;
  type: 'Regular' | 'Base';
}

/** Typical CSPM restrictions (providers, regions, severities, services) that every row passes. */
function keepAllRules(arranged: Arranged): BenchRule[] {
  const rules: BenchRule[] = [];
  for (let pair = 0; pair < 8; pair++) {
    rules.push({ clause: `region IN ('region-${2 * pair}', 'region-${2 * pair + 1}')`, group: 'region', type: 'Regular' });
  }
  for (const providerId of arranged.providerIds) rules.push({ clause: `provider_id = '${providerId}'`, group: 'provider', type: 'Regular' });
  rules.push({ clause: "severity IN ('critical', 'high')", group: 'severity', type: 'Regular' });
  rules.push({ clause: "severity = 'medium'", group: 'severity', type: 'Base' });
  rules.push({ clause: "severity IN ('low', 'informational')", group: 'severity', type: 'Regular' });
  rules.push({ clause: 'delta IS NOT NULL', group: 'severity', type: 'Base' });
  rules.push({ clause: "inserted_at > CAST('2000-01-01' AS timestamptz)", group: null, type: 'Base' });
  rules.push({ clause: "check_id LIKE 'check%'", group: null, type: 'Regular' });
  rules.push({ clause: 'resource_uid IS NOT NULL', group: null, type: 'Regular' });
  rules.push({ clause: "lower(service) LIKE 'svc-%'", group: null, type: 'Base' });
  return rules;
}

/** Restrictions that leave about 30% of the rows. */
function selectiveRules(): BenchRule[] {
  const rules: BenchRule[] = [];
  for (let region = 0; region < 8; region++) rules.push({ clause: `region = 'region-${region}'`, group: 'region', type: 'Regular' });
  rules.push({ clause: "severity IN ('critical', 'high')", group: 'severity', type: 'Regular' });
  rules.push({ clause: "severity = 'medium' AND NOT muted", group: 'severity', type: 'Regular' });
  rules.push({ clause: "lower(check_id) LIKE 'check_1%'", group: 'severity', type: 'Base' });
  rules.push({ clause: 'delta IS NOT NULL', group: 'severity', type: 'Base' });
  for (let service = 0; service < 4; service++) rules.push({ clause: `service LIKE 'svc-${service}%'`, group: 'service', type: 'Regular' });
  rules.push({ clause: 'muted = false', group: null, type: 'Base' });
  rules.push({ clause: "status <> 'MANUAL'", group: null, type: 'Regular' });
  rules.push({ clause: "resource_type NOT IN ('type-24', 'type-23')", group: null, type: 'Regular' });
  rules.push({ clause: "inserted_at > CAST('2000-01-01' AS timestamptz)", group: null, type: 'Base' });
  return rules;
}

/**
 * Rule inputs for the role `appliesTo`: a Regular rule names it, a Base rule
 * exempts every other bench role, so each set applies to its own role only.
 */
function ruleInputs(rules: BenchRule[], appliesTo: string, arranged: Arranged, label: string) {
  const others = [arranged.keepAll, arranged.selective, arranged.unfiltered].filter((role) => role !== appliesTo);
  return rules.map((rule, index) => ({
    attributes: { name: `${label} ${index}`, description: null, filter_type: rule.type, group_key: rule.group, clause: rule.clause },
    roleIds: rule.type === 'Regular' ? [appliesTo] : others,
    tables: ['findings'],
  }));
}

function principal(arranged: Arranged, roleIds: string[]): Principal {
  return {
    userId: arranged.ownerId,
    tenantId: arranged.tenantId,
    email: 'bench@example.com',
    roleId: roleIds[0] ?? null,
    roleIds,
    permissions: new Set(['manage_account']),
    membershipRole: 'owner',
    visibleProviderIds: null,
  };
}

/**
 * One findings-page read: the page of 10 newest FAIL findings and their
 * (capped) count, under the user's rules. With `splice` false the rules are
 * looked up but left out of the SQL, which isolates this module's own cost
 * (version read, cache, binding) from PostgreSQL's cost of evaluating them.
 */
async function findingsPage(database: TenantDatabase, rowFilter: RowFilterService, who: Principal, splice = true): Promise<number> {
  return database.transaction(
    who.tenantId,
    async () => {
      const looked = await rowFilter.predicateFor('findings', 'f', 1);
      const filter = splice ? looked : null;
      const where = `f.status = $1${filter ? ` AND ${filter.sql}` : ''}`;
      const params = ['FAIL', ...(filter?.params ?? [])];
      await tenantManager().query(
        `SELECT f.id, f.uid, f.check_id, f.status, f.severity, f.region, f.service, f.inserted_at
           FROM ${TABLE} f WHERE ${where} ORDER BY f.inserted_at DESC, f.id LIMIT 10`,
        params,
      );
      // Capped like the findings page's count (src/findings/query/page-counts.ts).
      const [{ count }] = await tenantManager().query(
        `SELECT count(*)::int AS count FROM (SELECT 1 FROM ${TABLE} f WHERE ${where} LIMIT ${COUNT_CAP + 1}) capped`,
        params,
      );
      return count as number;
    },
    { principal: who, readOnly: true },
  );
}

/** Reads per second with CONCURRENCY callers in a closed loop for `seconds`. */
async function throughput(read: () => Promise<unknown>, seconds: number): Promise<number> {
  const deadline = Date.now() + seconds * 1000;
  let done = 0;
  const started = Date.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (Date.now() < deadline) {
        await read();
        done++;
      }
    }),
  );
  return done / ((Date.now() - started) / 1000);
}

async function main(): Promise<void> {
  const bench = await createBenchEnvironment('rules');
  const admin = new Client({ connectionString: bench.env.DATABASE_ADMIN_URL });
  await admin.connect();
  const context = await NestFactory.createApplicationContext(
    withConfig(loadConfig({ ...process.env, ...bench.env, DATABASE_POOL_SIZE: String(CONCURRENCY) }), BenchRoot),
    { logger: false },
  );
  try {
    const arranged = await arrange(admin);
    const database = context.get(TenantDatabase);
    const rowFilter = context.get(RowFilterService);
    const rulesService = context.get(RlsRulesService);
    const inputs = [
      ...ruleInputs(keepAllRules(arranged), arranged.keepAll, arranged, 'keep-all'),
      ...ruleInputs(selectiveRules(), arranged.selective, arranged, 'selective'),
    ];
    await database.transaction(arranged.tenantId, async () => {
      for (const input of inputs) await rulesService.create(input);
    }, { principal: principal(arranged, []) });

    const users = {
      without: principal(arranged, [arranged.unfiltered]),
      withTwenty: principal(arranged, [arranged.keepAll]),
      withTwentySelective: principal(arranged, [arranged.selective]),
    };
    const appliedRules = async (who: Principal) =>
      (await database.transaction(who.tenantId, () => rowFilter.predicateFor('findings', 'f', 0), { principal: who, readOnly: true }))?.ruleIds.length ?? 0;
    for (const [name, who] of Object.entries(users)) {
      const expected = name === 'without' ? 0 : 20;
      if ((await appliedRules(who)) !== expected) throw new Error(`the bench rules do not apply as intended to ${name}`);
    }

    const read = (who: Principal, splice = true) => () => findingsPage(database, rowFilter, who, splice);
    const matching = {
      without: await read(users.without)(),
      withTwenty: await read(users.withTwenty)(),
      withTwentySelective: await read(users.withTwentySelective)(),
    };
    const rps = { without: [] as number[], withTwenty: [] as number[], withTwentySelective: [] as number[], lookupOnly: [] as number[] };
    for (const who of Object.values(users)) await throughput(read(who), 1);
    // Alternating rounds, so drift in the machine's load affects every side alike.
    for (let round = 0; round < ROUNDS; round++) {
      rps.without.push(await throughput(read(users.without), SECONDS));
      rps.withTwenty.push(await throughput(read(users.withTwenty), SECONDS));
      rps.withTwentySelective.push(await throughput(read(users.withTwentySelective), SECONDS));
      rps.lookupOnly.push(await throughput(read(users.withTwenty, false), SECONDS));
    }
    const mean = (values: number[]) => Math.round(values.reduce((sum, value) => sum + value, 0) / values.length);
    const [without, withTwenty, selective, lookupOnly] = [mean(rps.without), mean(rps.withTwenty), mean(rps.withTwentySelective), mean(rps.lookupOnly)];
    process.stdout.write(
      JSON.stringify({
        bench: 'rules',
        rps_without: without,
        rps_with_20: withTwenty,
        ratio: Number((withTwenty / without).toFixed(3)),
        rps_with_20_selective: selective,
        ratio_selective: Number((selective / without).toFixed(3)),
        rps_with_20_looked_up_not_applied: lookupOnly,
        ratio_looked_up_not_applied: Number((lookupOnly / without).toFixed(3)),
        rows: ROWS,
        counted_without: matching.without,
        counted_with_20: matching.withTwenty,
        counted_with_20_selective: matching.withTwentySelective,
        concurrency: CONCURRENCY,
        seconds_each: SECONDS * ROUNDS,
        operation: 'predicateFor + page of 10 + count capped at 10,001, read-only tenant transaction, in process',
      }) + '\n',
    );
  } finally {
    await context.close();
    await admin.end();
    await bench.cleanup();
  }
}

main().catch((error) => {
  process.stderr.write(`bench:rules failed: ${(error as Error).stack}\n`);
  process.exit(1);
});
