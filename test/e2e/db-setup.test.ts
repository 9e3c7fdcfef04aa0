import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { setupDatabase } from '../../src/database/database-setup';
import { dropScratchDatabase } from '../../src/dev/scratch-cleanup';
import { adminClient } from '../support/database';

/**
 * `npm run db:setup` against a database of this test's own: it creates the
 * database and the app role with its password, runs the migrations, can run
 * again, and refuses an app role that would bypass row-level security.
 */
describe('db:setup', () => {
  const suffix = randomBytes(4).toString('hex');
  const database = `cspm_setup_${suffix}`;
  const role = `cspm_setup_app_${suffix}`;
  const bypassing = `cspm_setup_bypass_${suffix}`;
  const server = new URL(process.env.DATABASE_ADMIN_URL!);
  const adminUrl = new URL(server.toString());
  adminUrl.pathname = `/${database}`;
  const appUrl = new URL(adminUrl.toString());
  appUrl.username = role;
  appUrl.password = `pw-${suffix}`;

  after(async () => {
    const maintenance = new URL(server.toString());
    maintenance.pathname = '/postgres';
    await dropScratchDatabase(maintenance.toString(), database);
    const admin = await adminClient();
    try {
      await admin.query(`DROP ROLE IF EXISTS ${role}`);
      await admin.query(`DROP ROLE IF EXISTS ${bypassing}`);
    } finally {
      await admin.end();
    }
  });

  it('creates the database and the app role, migrates, and can run again', async () => {
    const first: string[] = [];
    await setupDatabase(appUrl.toString(), adminUrl.toString(), (message) => first.push(message));
    assert.ok(first.includes(`created database ${database}`), first.join('\n'));
    assert.ok(first.includes(`created app role ${role}`), first.join('\n'));
    assert.ok(first.some((message) => message.startsWith('applied migrations')), first.join('\n'));

    const again: string[] = [];
    await setupDatabase(appUrl.toString(), adminUrl.toString(), (message) => again.push(message));
    assert.deepEqual(again, ['migrations up to date']);

    // The app role logs in with its password and is subject to row-level security.
    const app = new Client({ connectionString: appUrl.toString() });
    await app.connect();
    try {
      const { rows } = await app.query(`SELECT count(*)::int AS n FROM tenants`);
      assert.equal(rows[0].n, 0);
      const [flags] = (await app.query(`SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user`)).rows;
      assert.deepEqual(flags, { rolsuper: false, rolbypassrls: false });
    } finally {
      await app.end();
    }
  });

  it('setups of several databases at once, sharing one app role, all succeed', async () => {
    // Each sets the shared role's password and membership: rows of the server's shared catalogs.
    const databases = [0, 1, 2, 3].map((i) => `${database}_${i}`);
    const maintenance = new URL(server.toString());
    maintenance.pathname = '/postgres';
    try {
      for (let round = 0; round < 3; round++) {
        const outcomes = await Promise.allSettled(
          databases.map((name) => {
            const admin = new URL(adminUrl.toString());
            admin.pathname = `/${name}`;
            const app = new URL(appUrl.toString());
            app.pathname = `/${name}`;
            return setupDatabase(app.toString(), admin.toString());
          }),
        );
        const failures = outcomes.flatMap((o) => (o.status === 'rejected' ? [(o.reason as Error).message] : []));
        assert.deepEqual(failures, [], `round ${round}`);
      }
    } finally {
      for (const name of databases) await dropScratchDatabase(maintenance.toString(), name);
    }
  });

  it('setups of one new database at once, as processes starting side by side run them, all succeed', async () => {
    const name = `${database}_shared`;
    const admin = new URL(adminUrl.toString());
    admin.pathname = `/${name}`;
    const app = new URL(appUrl.toString());
    app.pathname = `/${name}`;
    const maintenance = new URL(server.toString());
    maintenance.pathname = '/postgres';
    try {
      const logs: string[][] = [[], [], []];
      const outcomes = await Promise.allSettled(logs.map((log) => setupDatabase(app.toString(), admin.toString(), (message) => log.push(message))));
      assert.deepEqual(outcomes.flatMap((o) => (o.status === 'rejected' ? [(o.reason as Error).message] : [])), []);
      // One of them applied the migrations; the others, waiting their turn, found nothing left to do.
      assert.equal(logs.filter((log) => log.some((message) => message.startsWith('applied migrations'))).length, 1, JSON.stringify(logs));
    } finally {
      await dropScratchDatabase(maintenance.toString(), name);
    }
  });

  it('refuses an app role that bypasses row-level security, or the owner role itself', async () => {
    const admin = await adminClient();
    try {
      await admin.query(`CREATE ROLE ${bypassing} LOGIN BYPASSRLS`);
    } finally {
      await admin.end();
    }
    const bypassUrl = new URL(adminUrl.toString());
    bypassUrl.username = bypassing;
    bypassUrl.password = '';
    await assert.rejects(setupDatabase(bypassUrl.toString(), adminUrl.toString()), /bypasses row-level security/);
    await assert.rejects(setupDatabase(adminUrl.toString(), adminUrl.toString()), /different roles/);
  });
});
