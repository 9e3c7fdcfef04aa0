import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, TestApp } from '../support/test-app';
import { SignedUpUser, signUp } from '../support/http-client';
import { TenantDatabase } from '../../src/database/tenant-database';
import { afterCommit, tenantManager } from '../../src/database/tenant-context';

describe('rlsTransaction', () => {
  let app: TestApp;
  let database: TenantDatabase;
  let a: SignedUpUser;
  let b: SignedUpUser;

  before(async () => {
    app = await startTestApp();
    database = app.app.get(TenantDatabase);
    a = await signUp(app.baseUrl, 'tx-a');
    b = await signUp(app.baseUrl, 'tx-b');
  });
  after(async () => app.close());

  it('fails closed: tenant data access with no tenant transaction throws', () => {
    assert.throws(() => tenantManager(), /No tenant transaction/);
  });

  it('sees only its tenant, even right after another tenant’s transaction on the same pool', async () => {
    for (let round = 0; round < 20; round++) {
      const tenant = round % 2 === 0 ? a : b;
      const memberships = await database.transaction(tenant.tenantId, () => tenantManager().query(`SELECT DISTINCT tenant_id FROM memberships`));
      assert.deepEqual(memberships.map((m: { tenant_id: string }) => m.tenant_id), [tenant.tenantId]);
    }
  });

  it('nested calls for the same tenant join the open transaction; another tenant is refused', async () => {
    await database.transaction(a.tenantId, async () => {
      const outerPid = (await tenantManager().query('SELECT pg_backend_pid() AS pid'))[0].pid;
      const innerPid = await database.transaction(a.tenantId, async () => (await tenantManager().query('SELECT pg_backend_pid() AS pid'))[0].pid);
      assert.equal(innerPid, outerPid);
      await assert.rejects(database.transaction(b.tenantId, async () => undefined), /another tenant/);
    });
  });

  it('rolls back on error and runs after-commit hooks only on commit', async () => {
    const ran: string[] = [];
    await assert.rejects(
      database.transaction(a.tenantId, async () => {
        await tenantManager().query(`UPDATE tenants SET name = 'rolled back' WHERE id = $1`, [a.tenantId]);
        afterCommit(() => void ran.push('failed'));
        throw new Error('boom');
      }),
      /boom/,
    );
    await database.transaction(a.tenantId, async () => {
      afterCommit(() => void ran.push('committed'));
    });
    assert.deepEqual(ran, ['committed']);
    const name = await database.transaction(a.tenantId, () => tenantManager().query(`SELECT name FROM tenants`));
    assert.notEqual(name[0].name, 'rolled back');
  });

  it('read-only transactions refuse writes', async () => {
    await assert.rejects(
      database.transaction(a.tenantId, () => tenantManager().query(`UPDATE tenants SET name = 'x'`), { readOnly: true }),
      (error: { driverError?: { code?: string } }) => error.driverError?.code === '25006',
    );
  });

  it('refuses a tenant id that is not a UUID', async () => {
    await assert.rejects(database.transaction("x'; SET ROLE postgres; --", async () => undefined), /UUID/);
  });
});
