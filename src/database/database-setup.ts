import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { postgresOptions } from './data-source-options';
import { postgresCode } from './postgres-error';
import { APP_GROUP_ROLE } from './rls-policy-sql';

export interface SetupLog {
  (message: string): void;
}

/**
 * Idempotent: creates the database and the app login role when the admin
 * connection may, runs the migrations as the owner, and grants the app role
 * the group role the migrations grant table rights to.
 */
export async function setupDatabase(appUrl: string, adminUrl: string, log: SetupLog = () => undefined): Promise<void> {
  const app = new URL(appUrl);
  const admin = new URL(adminUrl);
  const appUser = decodeURIComponent(app.username);
  const appPassword = decodeURIComponent(app.password);
  const database = decodeURIComponent(admin.pathname.slice(1));
  if (!appUser) throw new Error('DATABASE_URL must name the app role (postgres://ROLE:PASSWORD@host/db)');
  if (appUser === decodeURIComponent(admin.username)) {
    throw new Error('DATABASE_URL and DATABASE_ADMIN_URL must use different roles: the app role must not own the tables');
  }

  await createDatabaseIfMissing(admin, database, log);

  const client = new Client({ connectionString: adminUrl });
  await client.connect();
  try {
    // Setups of one database (processes starting side by side) take turns: two would apply
    // the same migration at once. The lock is this session's, so it goes when the session ends.
    await client.query('SELECT pg_advisory_lock($1)', [SETUP_LOCK]);
    await retryingCatalogRace(() => ensureAppRole(client, appUser, appPassword, log));
    await migrate(adminUrl, appUser, database, log);
  } finally {
    await client.end();
  }
}

/** The key of the advisory lock a setup holds on its database (advisory locks are per database). */
const SETUP_LOCK = 7_310_001;

async function migrate(adminUrl: string, appUser: string, database: string, log: SetupLog): Promise<void> {
  const dataSource = new DataSource(
    postgresOptions({ name: 'setup', url: adminUrl, poolSize: 1, statementTimeoutMs: 0, applicationName: 'cspm-api:setup' }, true),
  );
  await dataSource.initialize();
  try {
    const applied = await dataSource.runMigrations({ transaction: 'each' });
    log(applied.length > 0 ? `applied migrations: ${applied.map((m) => m.name).join(', ')}` : 'migrations up to date');
    await retryingCatalogRace(() => dataSource.query(`GRANT ${APP_GROUP_ROLE} TO "${appUser.replace(/"/g, '""')}"`));
    await dataSource.query(`GRANT CONNECT ON DATABASE "${database.replace(/"/g, '""')}" TO ${APP_GROUP_ROLE}`);
  } finally {
    await dataSource.destroy();
  }
}

async function createDatabaseIfMissing(admin: URL, database: string, log: SetupLog): Promise<void> {
  const maintenance = new URL(admin.toString());
  maintenance.pathname = '/postgres';
  const client = new Client({ connectionString: maintenance.toString() });
  try {
    await client.connect();
  } catch {
    // No access to the maintenance database: the target must already exist.
    return;
  }
  try {
    const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (exists.rowCount === 0) {
      await client.query(`CREATE DATABASE "${database.replace(/"/g, '""')}"`);
      log(`created database ${database}`);
    }
  } catch (error) {
    // Another setup created it meanwhile: 42P04, or 23505 when both passed the check at once.
    const code = postgresCode(error);
    if (code !== '42P04' && code !== '23505') throw error;
  } finally {
    await client.end();
  }
}

async function ensureAppRole(client: Client, user: string, password: string, log: SetupLog): Promise<void> {
  const existing = await client.query<{ rolsuper: boolean; rolbypassrls: boolean }>(
    'SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = $1',
    [user],
  );
  if (existing.rowCount === 0) {
    const { rows } = await client.query<{ sql: string }>(
      `SELECT format('CREATE ROLE %I LOGIN PASSWORD %L NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE INHERIT', $1::text, $2::text) AS sql`,
      [user, password || null],
    );
    try {
      await client.query(rows[0].sql);
      log(`created app role ${user}`);
    } catch (error) {
      // Another process created it at the same moment.
      if ((error as { code?: string }).code !== '42710') throw error;
    }
    return;
  }
  const role = existing.rows[0];
  if (role.rolsuper || role.rolbypassrls) {
    throw new Error(`The app role ${user} is a superuser or bypasses row-level security; use a plain login role`);
  }
  if (password) {
    const { rows } = await client.query<{ sql: string }>(`SELECT format('ALTER ROLE %I PASSWORD %L', $1::text, $2::text) AS sql`, [user, password]);
    await client.query(rows[0].sql);
  }
}

/**
 * The app role and its membership are rows of the server's shared catalogs.
 * Setups of two databases sharing one app role (the setup lock is per
 * database) writing the same row at the same moment fail one of them with
 * "tuple concurrently updated", having changed nothing: it runs again.
 */
async function retryingCatalogRace<T>(run: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await run();
    } catch (error) {
      if (attempt >= 5 || !isCatalogRace(error)) throw error;
      await sleep(20 * attempt + Math.random() * 50);
    }
  }
}

function isCatalogRace(error: unknown): boolean {
  return postgresCode(error) === 'XX000' && /tuple concurrently (updated|deleted)/.test((error as Error).message ?? '');
}
