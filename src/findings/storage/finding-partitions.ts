import { tenantIsolation } from '../../database/rls-policy-sql';
import { uuidAt } from './finding-ids';

/** The tables partitioned by month on a UUIDv7 column, and that column. */
export const MONTHLY_PARTITIONED_TABLES = [
  { table: 'findings', key: 'id' },
  { table: 'resource_finding_links', key: 'finding_id' },
] as const;

export interface MonthPartition {
  parent: string;
  name: string;
  /** The UUIDv7 of the month's first millisecond, the rest zero (inclusive). */
  from: string;
  /** The same for the next month (exclusive). */
  to: string;
}

export function monthStart(date: Date): Date {
  return new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), 1));
}

export function addMonths(date: Date, months: number): Date {
  return new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + months, 1));
}

/** Both partitioned tables' partitions for the month that contains `date`. */
export function partitionsOfMonth(date: Date): MonthPartition[] {
  const start = monthStart(date);
  const suffix = `${start.getUTCFullYear()}_${String(start.getUTCMonth() + 1).padStart(2, '0')}`;
  return MONTHLY_PARTITIONED_TABLES.map(({ table }) => ({
    parent: table,
    name: `${table}_p${suffix}`,
    from: uuidAt(start),
    to: uuidAt(addMonths(start, 1)),
  }));
}

/**
 * DDL for one partition. Bounds and names come from dates, never from input.
 * The table is made on its own and then attached: ATTACH PARTITION takes a
 * SHARE UPDATE EXCLUSIVE lock on the parent, which readers and writers do not
 * wait for, where CREATE TABLE … PARTITION OF would take ACCESS EXCLUSIVE and
 * queue every query on findings behind the longest open transaction.
 * LIKE copies the columns, the generated severity_rank and the CHECK
 * constraints, which a partition must share with its parent; the parent's
 * indexes are built on the (empty) table as it is attached.
 * A partition is a table of its own for row-level security: reached directly
 * it would apply no policy at all, so it gets the same four as its parent.
 */
export function createPartitionStatements(partition: MonthPartition): string[] {
  return [
    `CREATE TABLE ${partition.name} (LIKE ${partition.parent} INCLUDING DEFAULTS INCLUDING GENERATED INCLUDING CONSTRAINTS)`,
    ...tenantIsolation(partition.name),
    `ALTER TABLE ${partition.parent} ATTACH PARTITION ${partition.name} FOR VALUES FROM ('${partition.from}') TO ('${partition.to}')`,
  ];
}

/** Serialises partition creation between the migration, the partition job and ingestion. */
export const PARTITION_LOCK_SQL = `SELECT pg_advisory_xact_lock(hashtext('cspm:finding-partitions'))`;

export interface SqlRunner {
  query(sql: string, params?: unknown[]): Promise<unknown>;
}

/**
 * Creates the month's partitions that do not exist yet; returns the names it
 * created. Runs as the owner role, inside the caller's transaction.
 */
export async function createMonthPartitions(runner: SqlRunner, date: Date): Promise<string[]> {
  await runner.query(PARTITION_LOCK_SQL);
  const created: string[] = [];
  for (const partition of partitionsOfMonth(date)) {
    const existing = (await runner.query(`SELECT to_regclass($1) AS oid`, [partition.name])) as Array<{ oid: string | null }>;
    if (existing[0]?.oid) continue;
    for (const sql of createPartitionStatements(partition)) await runner.query(sql);
    created.push(partition.name);
  }
  return created;
}

/**
 * $1 partition names. Those whose statistics no longer describe them: never
 * analyzed, or changed by more rows since their last analysis than
 * autovacuum's own threshold (50 rows and a tenth of the table). The change
 * counts come from the statistics system, which may lag a second behind the
 * last commits; a scan large enough to matter is well past the threshold.
 */
const OUTGROWN_STATISTICS_SQL = `
  SELECT c.relname AS name FROM pg_class c LEFT JOIN pg_stat_all_tables s ON s.relid = c.oid
   WHERE c.oid IN (SELECT to_regclass(name) FROM unnest($1::text[]) AS name)
     AND (c.reltuples < 0 OR COALESCE(s.n_mod_since_analyze, 0) > 50 + 0.1 * c.reltuples)
   ORDER BY c.relname`;

/**
 * ANALYZE of the partitions of the month of `date` whose statistics are
 * outgrown; returns their names. Runs as the owner role (only an owner may
 * analyze a table), inside the caller's transaction.
 */
export async function analyzeOutgrownPartitions(runner: SqlRunner, date: Date): Promise<string[]> {
  const names = partitionsOfMonth(date).map((partition) => partition.name);
  const outgrown = (await runner.query(OUTGROWN_STATISTICS_SQL, [names])) as Array<{ name: string }>;
  // Names made from dates (partitionsOfMonth), never from input.
  for (const { name } of outgrown) await runner.query(`ANALYZE ${name}`);
  return outgrown.map((row) => row.name);
}
