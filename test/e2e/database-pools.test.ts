import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from 'pg';
import { TenantDatabase } from '../../src/database/tenant-database';
import { adminClient } from '../support/database';
import { startTestApp, TestApp } from '../support/test-app';

/** How the process's pools set up their PostgreSQL sessions. */
describe('database pools', () => {
  let admin: Client;

  before(async () => {
    admin = await adminClient();
  });
  after(() => admin.end());

  async function jitOf(app: TestApp): Promise<{ app: string; owner: string }> {
    const database = app.app.get(TenantDatabase);
    const [appRole] = await database.app.query('SHOW jit');
    const [ownerRole] = await database.adminQuery<{ jit: string }>('SHOW jit');
    return { app: appRole.jit, owner: ownerRole.jit };
  }

  it('compile no statement just in time unless DATABASE_JIT asks for it, whatever the server says', async () => {
    // PostgreSQL's default, set on this database so that the test means the same on a server configured otherwise.
    const database = (await admin.query('SELECT current_database() AS name')).rows[0].name;
    await admin.query(`ALTER DATABASE "${database}" SET jit = on`);
    try {
      const plain = await startTestApp();
      try {
        assert.deepEqual(await jitOf(plain), { app: 'off', owner: 'off' });
      } finally {
        await plain.close();
      }
      const asked = await startTestApp({ DATABASE_JIT: 'true' });
      try {
        assert.deepEqual(await jitOf(asked), { app: 'on', owner: 'on' });
      } finally {
        await asked.close();
      }
    } finally {
      await admin.query(`ALTER DATABASE "${database}" RESET jit`);
    }
  });
});
