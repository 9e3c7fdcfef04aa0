import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, TestApp } from '../support/test-app';
import { SignedUpUser, signUp } from '../support/http-client';
import type { DataSource } from 'typeorm';
import { TenantDatabase } from '../../src/database/tenant-database';

/** The pg pool behind a data source: its configured maximum and the connections it holds now. */
function poolOf(source: DataSource): { options: { max: number }; totalCount: number } {
  return (source.driver as unknown as { master: { options: { max: number }; totalCount: number } }).master;
}

const TENANTS = 5;
const REQUESTS = 500;

describe('pooled connections never carry one tenant into another request', () => {
  let app: TestApp;
  let users: SignedUpUser[];

  before(async () => {
    app = await startTestApp({ DATABASE_POOL_SIZE: '5' });
    users = [];
    for (let i = 0; i < TENANTS; i++) users.push(await signUp(app.baseUrl, `pool-${i}`));
  });
  after(async () => app.close());

  it(`${REQUESTS} concurrent interleaved requests from ${TENANTS} tenants on 5 connections, a fifth failing mid-transaction`, async () => {
    const database = app.app.get(TenantDatabase);
    // Writes run on the primary pool, reads on the replica pool (the same server here): each holds at most five.
    const pools = [poolOf(database.app), poolOf(database.replica)];
    for (const pool of pools) assert.equal(pool.options.max, 5);
    let largest = 0;
    const sampler = setInterval(() => {
      largest = Math.max(largest, ...pools.map((pool) => pool.totalCount));
    }, 2);
    let failedOnPurpose = 0;
    const work = Array.from({ length: REQUESTS }, async (_, index) => {
      // Shifts every round so each tenant does every kind of request.
      const user = users[(index + Math.floor(index / TENANTS)) % TENANTS];
      const kind = index % 5;
      if (kind === 0) {
        // Fails inside the transaction, after the tenant setting: the tenant already has a role of that name (unique violation).
        const result = await user.client.post('/api/v1/roles', { data: { type: 'roles', attributes: { name: 'admin' } } });
        assert.equal(result.status, 409, JSON.stringify(result.body));
        failedOnPurpose++;
        return;
      }
      if (kind === 1 || kind === 3) {
        const result = await user.client.get('/api/v1/users/me');
        assert.equal(result.status, 200);
        assert.equal(result.body.data.id, user.userId);
        assert.equal(result.body.data.attributes.email, user.email);
        return;
      }
      if (kind === 2) {
        const result = await user.client.get(`/api/v1/tenants/${user.tenantId}/memberships`);
        assert.equal(result.status, 200);
        for (const membership of result.body.data) assert.equal(membership.relationships.tenant.data.id, user.tenantId);
        return;
      }
      const result = await user.client.patch(`/api/v1/tenants/${user.tenantId}`, { data: { type: 'tenants', id: user.tenantId, attributes: { name: `tenant of ${user.email}` } } });
      assert.equal(result.status, 200);
      assert.equal(result.body.data.id, user.tenantId);
    });
    try {
      await Promise.all(work);
    } finally {
      clearInterval(sampler);
    }
    assert.equal(failedOnPurpose, REQUESTS / 5);
    assert.ok(largest > 1 && largest <= 5, `a pool held ${largest} connections`);

    // Every tenant's data is still its own.
    for (const user of users) {
      const tenant = await user.client.get(`/api/v1/tenants/${user.tenantId}`);
      assert.equal(tenant.body.data.attributes.name, `tenant of ${user.email}`);
      const me = await user.client.get('/api/v1/users/me');
      assert.equal(me.body.data.attributes.email, user.email);
    }
  });

  it('after release, no pooled connection holds a tenant setting', async () => {
    const database = app.app.get(TenantDatabase);
    for (const [name, source] of [['primary', database.app], ['replica', database.replica]] as const) {
      // Five concurrent sleepers occupy all five connections, so each one is inspected.
      const settings = await Promise.all(
        Array.from({ length: 5 }, () =>
          source.query(`SELECT pg_backend_pid() AS pid, current_setting('api.tenant_id', true) AS tenant, pg_sleep(0.2)`),
        ),
      );
      const pids = new Set(settings.map((r) => r[0].pid));
      assert.equal(pids.size, 5, `expected five distinct ${name} connections`);
      for (const row of settings) assert.ok(row[0].tenant === null || row[0].tenant === '', `${name} connection ${row[0].pid} kept ${row[0].tenant}`);
    }
  });
});
