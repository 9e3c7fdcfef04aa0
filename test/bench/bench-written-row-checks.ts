import { Client } from 'pg';
import { APP_GROUP_ROLE, CURRENT_TENANT, writtenRowCheck } from '../../src/database/rls-policy-sql';
import { createBenchEnvironment } from '../support/bench-database';
import { median } from '../support/median';

/**
 * `npm run bench:written-row-checks`: what the tenant policy's check on
 * inserted rows costs in its two forms. Two tables alike but for their INSERT
 * policy: the tenant compared once per row (the plain expression), and read
 * once per statement (writtenRowCheck, a scalar subquery). The app role
 * inserts BENCH_ROWS rows into each, alternating, BENCH_ROUNDS times; prints
 * the medians and the median of the rounds' ratios (per statement over per row).
 */
const ROWS = Number(process.env.BENCH_ROWS ?? 1_000_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const TENANT = '01900000-0000-7000-8000-0000000000aa';
const FORMS = { per_row: `tenant_id = ${CURRENT_TENANT}`, per_statement: writtenRowCheck('tenant_id') } as const;
type Form = keyof typeof FORMS;

async function main(): Promise<void> {
  const bench = await createBenchEnvironment('rlswrites');
  const admin = new Client({ connectionString: bench.env.DATABASE_ADMIN_URL });
  const app = new Client({ connectionString: bench.env.DATABASE_URL });
  try {
    await admin.connect();
    await app.connect();
    for (const [form, check] of Object.entries(FORMS)) {
      await admin.query(`CREATE TABLE bench_${form} (tenant_id uuid NOT NULL, n bigint NOT NULL)`);
      await admin.query(`ALTER TABLE bench_${form} ENABLE ROW LEVEL SECURITY; ALTER TABLE bench_${form} FORCE ROW LEVEL SECURITY`);
      await admin.query(`CREATE POLICY bench_${form}_insert ON bench_${form} FOR INSERT WITH CHECK (${check})`);
      await admin.query(`GRANT INSERT ON bench_${form} TO ${APP_GROUP_ROLE}`);
    }
    const seconds: Record<Form, number[]> = { per_row: [], per_statement: [] };
    const forms = Object.keys(FORMS) as Form[];
    for (let round = 0; round < ROUNDS; round++) {
      for (const form of round % 2 ? [...forms].reverse() : forms) {
        await admin.query(`TRUNCATE bench_${form}`);
        const start = process.hrtime.bigint();
        await app.query('BEGIN');
        await app.query(`SELECT set_config('api.tenant_id', $1, true)`, [TENANT]);
        await app.query(`INSERT INTO bench_${form} SELECT $1, g FROM generate_series(1, $2::int) g`, [TENANT, ROWS]);
        await app.query('COMMIT');
        seconds[form].push(Number(process.hrtime.bigint() - start) / 1e9);
      }
    }
    const rounded = (n: number) => Number(n.toFixed(3));
    process.stdout.write(
      JSON.stringify({
        bench: 'written-row-checks',
        rows: ROWS,
        rounds: ROUNDS,
        per_row_s: rounded(median(seconds.per_row)),
        per_statement_s: rounded(median(seconds.per_statement)),
        ratio: rounded(median(seconds.per_statement.map((s, round) => s / seconds.per_row[round]))),
      }) + '\n',
    );
  } finally {
    await app.end().catch(() => undefined);
    await admin.end().catch(() => undefined);
    await bench.cleanup();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
