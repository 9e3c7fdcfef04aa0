import { Client } from 'pg';
import { newId } from '../../src/database/uuid';
import { startApiProcess } from '../support/api-process';
import { createBenchEnvironment } from '../support/bench-database';
import { aggregate, appDataSource, ingestRecords, insertCompletedScan, insertProviderRow } from '../support/bench-ingestion';
import { generateRecords, REGIONS } from '../support/finding-generator';
import { ApiClient, signIn, signUp, SignedUpUser } from '../support/http-client';
import { load, LoadResult } from '../support/load';

/**
 * `npm run bench:rules`: the findings page (GET /api/v1/findings, FAIL
 * findings, 50 a page with their count) served by the API as its own process,
 * over FINDINGS findings of one tenant, for three members in one run: one to
 * whom no rule applies, one to whom 20 rules apply that every row passes (the
 * cost of applying rules), and one to whom 20 rules apply that leave a
 * fraction of the rows. Each is measured with the page's count and in cursor
 * mode (no count): under rules the count cannot come from the running totals,
 * so the two modes separate the cost of counting from the cost of the rules'
 * predicate. Rounds alternate, so drift in the machine's load affects every
 * side alike; each ratio is the median of the rounds' own ratios, and each
 * rate the median of the rounds' rates.
 */
const FINDINGS = Number(process.env.BENCH_FINDINGS ?? 100_000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 6);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const PAGE = '/api/v1/findings?filter[status]=FAIL&page[size]=50';
const CURSOR_PAGE = `${PAGE}&page[cursor]=`;

interface BenchRule {
  clause: string;
  group: string | null;
}

/** Typical restrictions (regions, providers, severities) that every row passes. */
function keepAllRules(providerIds: string[]): BenchRule[] {
  const rules: BenchRule[] = [];
  for (let start = 0; start < REGIONS.length; start += 2) {
    rules.push({ clause: `region IN (${REGIONS.slice(start, start + 2).map((region) => `'${region}'`).join(', ')})`, group: 'region' });
  }
  for (const providerId of providerIds) rules.push({ clause: `provider_id = '${providerId}'`, group: 'provider' });
  rules.push({ clause: "severity IN ('critical', 'high')", group: 'severity' });
  rules.push({ clause: "severity = 'medium'", group: 'severity' });
  rules.push({ clause: "severity IN ('low', 'informational')", group: 'severity' });
  rules.push({ clause: "inserted_at > CAST('2000-01-01' AS timestamptz)", group: null });
  rules.push({ clause: 'check_id IS NOT NULL', group: null });
  rules.push({ clause: "lower(service) <> ''", group: null });
  while (rules.length < 20) rules.push({ clause: 'uid IS NOT NULL', group: null });
  return rules.slice(0, 20);
}

/** Restrictions that leave a small part of the rows. */
function selectiveRules(): BenchRule[] {
  const rules: BenchRule[] = [];
  for (const region of REGIONS.slice(0, 8)) rules.push({ clause: `region = '${region}'`, group: 'region' });
  rules.push({ clause: "severity IN ('critical', 'high')", group: 'severity' });
  rules.push({ clause: "severity = 'medium' AND NOT muted", group: 'severity' });
  for (const services of [['ec2', 's3'], ['iam', 'rds'], ['lambda', 'kms'], ['vpc', 'eks']]) {
    rules.push({ clause: `service IN (${services.map((service) => `'${service}'`).join(', ')})`, group: 'service' });
  }
  rules.push({ clause: 'muted = false', group: null });
  rules.push({ clause: "status <> 'MANUAL'", group: null });
  rules.push({ clause: "check_id LIKE '%check%' OR check_id IS NOT NULL", group: null });
  rules.push({ clause: "inserted_at > CAST('2000-01-01' AS timestamptz)", group: null });
  rules.push({ clause: 'resource_uid IS NOT NULL', group: null });
  rules.push({ clause: 'uid IS NOT NULL', group: null });
  return rules;
}

async function main(): Promise<void> {
  const bench = await createBenchEnvironment('rules');
  const api = await startApiProcess(bench.env);
  const admin = new Client({ connectionString: bench.env.DATABASE_ADMIN_URL });
  await admin.connect();
  try {
    const owner = await signUp(api.baseUrl, 'bench-rules');
    const providerIds = await seedFindings(admin, bench.env.DATABASE_URL, owner.tenantId);
    const members = {
      without: await member(api.baseUrl, admin, owner, 'unfiltered'),
      with_20: await member(api.baseUrl, admin, owner, 'keep-all'),
      with_20_selective: await member(api.baseUrl, admin, owner, 'selective'),
    };
    await createRules(owner.client, members.with_20.roleId, keepAllRules(providerIds), 'keep-all');
    await createRules(owner.client, members.with_20_selective.roleId, selectiveRules(), 'selective');
    const counts: Record<string, number> = {};
    for (const [name, who] of Object.entries(members)) {
      const effective = await owner.client.get(`/api/v1/rls-rules/effective?filter[table]=findings&filter[user]=${who.userId}`);
      const applied = effective.body.data.relationships.rules.data.length;
      if (applied !== (name === 'without' ? 0 : 20)) throw new Error(`${applied} rules apply to ${name}, not as intended`);
      const page = await new ApiClient(api.baseUrl, who.access).get(PAGE);
      if (page.status !== 200) throw new Error(`the findings page answered ${page.status} for ${name}`);
      counts[name] = page.body.meta.pagination.count;
    }

    const results: Record<string, LoadResult[]> = {};
    for (const who of Object.values(members)) await load(`${api.baseUrl}${PAGE}`, CONNECTIONS, 1, headers(who.access));
    for (let round = 0; round < ROUNDS; round++) {
      for (const [mode, page] of [['', PAGE], ['cursor_', CURSOR_PAGE]] as const) {
        for (const [name, who] of Object.entries(members)) {
          (results[mode + name] ??= []).push(await load(`${api.baseUrl}${page}`, CONNECTIONS, SECONDS, headers(who.access)));
        }
      }
    }
    const median = (values: number[]) => {
      const sorted = [...values].sort((a, b) => a - b);
      const middle = Math.floor(sorted.length / 2);
      return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
    };
    const rps = (name: string) => Math.round(median(results[name].map((r) => r.rps)));
    const p99 = (name: string) => Math.max(...results[name].map((r) => r.p99_ms));
    const ratio = (name: string, base: string) =>
      Number(median(results[name].map((r, round) => r.rps / Math.max(results[base][round].rps, 1))).toFixed(3));
    const failures = Object.values(results).flat().reduce((sum, r) => sum + r.errors + r.non2xx, 0);
    process.stdout.write(
      JSON.stringify({
        bench: 'rules',
        findings: FINDINGS,
        connections: CONNECTIONS,
        rounds: ROUNDS,
        seconds_each: SECONDS * ROUNDS,
        rps_without: rps('without'),
        p99_ms_without: p99('without'),
        rps_with_20: rps('with_20'),
        p99_ms_with_20: p99('with_20'),
        ratio: ratio('with_20', 'without'),
        rps_with_20_selective: rps('with_20_selective'),
        p99_ms_with_20_selective: p99('with_20_selective'),
        ratio_selective: ratio('with_20_selective', 'without'),
        cursor: {
          rps_without: rps('cursor_without'),
          rps_with_20: rps('cursor_with_20'),
          ratio: ratio('cursor_with_20', 'cursor_without'),
          rps_with_20_selective: rps('cursor_with_20_selective'),
          ratio_selective: ratio('cursor_with_20_selective', 'cursor_without'),
          p99_ms: { without: p99('cursor_without'), with_20: p99('cursor_with_20'), with_20_selective: p99('cursor_with_20_selective') },
        },
        counted: counts,
        failed_requests: failures,
      }) + '\n',
    );
  } finally {
    await admin.end();
    await api.stop();
    await bench.cleanup();
  }
}

function headers(token: string): Record<string, string> {
  return { authorization: `Bearer ${token}`, accept: 'application/vnd.api+json' };
}

/** Three providers, one scan each, FINDINGS findings in all, ingested through the real path. */
async function seedFindings(admin: Client, appUrl: string, tenantId: string): Promise<string[]> {
  const app = await appDataSource(appUrl, 1);
  const providerIds: string[] = [];
  try {
    for (let p = 0; p < 3; p++) {
      const providerId = await insertProviderRow(admin, tenantId, String(100000000000 + p));
      providerIds.push(providerId);
      const startedAt = new Date(Date.now() - (3 - p) * 60_000);
      const scanId = await insertCompletedScan(admin, tenantId, providerId, startedAt);
      await ingestRecords(app, { tenantId, scanId, providerId, scanStartedAt: startedAt }, generateRecords({ providerKey: `rules-${p}`, count: Math.floor(FINDINGS / 3) }));
      await aggregate(app, tenantId, scanId);
    }
    await admin.query('VACUUM ANALYZE');
  } finally {
    await app.destroy();
  }
  return providerIds;
}

/** A member of the owner's tenant holding one role of their own (unlimited visibility), signed in there. */
async function member(baseUrl: string, admin: Client, owner: SignedUpUser, roleName: string): Promise<{ userId: string; roleId: string; access: string }> {
  const user = await signUp(baseUrl, `bench-rules-${roleName}`);
  const roleId = newId();
  await admin.query(`INSERT INTO roles (id, tenant_id, name, unlimited_visibility) VALUES ($1, $2, $3, true)`, [roleId, owner.tenantId, roleName]);
  await admin.query(`INSERT INTO memberships (id, tenant_id, user_id, role) VALUES ($1, $2, $3, 'member')`, [newId(), owner.tenantId, user.userId]);
  await admin.query(`INSERT INTO user_roles (id, tenant_id, user_id, role_id) VALUES ($1, $2, $3, $4)`, [newId(), owner.tenantId, user.userId, roleId]);
  const tokens = await signIn(baseUrl, user.email, user.password, owner.tenantId);
  return { userId: user.userId, roleId, access: tokens.access };
}

async function createRules(owner: ApiClient, roleId: string, rules: BenchRule[], label: string): Promise<void> {
  for (const [index, rule] of rules.entries()) {
    const created = await owner.post('/api/v1/rls-rules', {
      data: {
        type: 'rls-rules',
        attributes: { name: `${label} ${index}`, filter_type: 'Regular', group_key: rule.group, clause: rule.clause },
        relationships: { roles: { data: [{ type: 'roles', id: roleId }] }, tables: { data: [{ type: 'rls-tables', id: 'findings' }] } },
      },
    });
    if (created.status !== 201) throw new Error(`rule "${rule.clause}" refused: ${created.status} ${JSON.stringify(created.body)}`);
  }
}

main().catch((error) => {
  process.stderr.write(`bench:rules failed: ${(error as Error).stack}\n`);
  process.exit(1);
});
