import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from 'pg';
import { rlsTransaction } from '../../src/database/rls-transaction';
import { TenantDatabase } from '../../src/database/tenant-database';
import { aggregateScan } from '../../src/findings/overviews/scan-aggregation';
import { adminClient } from '../support/database';
import { generateRecords } from '../support/finding-generator';
import { ingestScan, insertProvider, insertScan } from '../support/findings-fixtures';
import { signUp } from '../support/http-client';
import { waitFor } from '../support/tasks-fixture';
import { startTestApp, TestApp } from '../support/test-app';

/**
 * The overview job, a Mutelist backfill and a mute rule may each aggregate
 * the same scan at the same moment. Each aggregation deletes the scan's
 * summaries and inserts them again, so two interleaved would insert the same
 * keys: one at a time, the second replacing what the first wrote.
 */
describe('one aggregation of a scan at a time', () => {
  let admin: Client;
  let app: TestApp;
  let tenantId: string;
  let scanId: string;

  before(async () => {
    admin = await adminClient();
    app = await startTestApp();
    tenantId = (await signUp(app.baseUrl, 'aggregation-lock')).tenantId;
    const providerId = await insertProvider(admin, tenantId);
    const startedAt = new Date(Date.now() - 600_000);
    scanId = await insertScan(admin, tenantId, providerId, startedAt);
    await ingestScan(app, { tenantId, scanId, providerId, scanStartedAt: startedAt }, generateRecords({ providerKey: 'aggregation-lock', count: 400 }), {
      aggregate: false,
    });
  });
  after(async () => {
    await admin.end();
    await app.close();
  });

  /** What an aggregation leaves of the scan, in a stable order. */
  async function summaries(): Promise<unknown> {
    const read = async (table: string, columns: string) =>
      (await admin.query(`SELECT ${columns} FROM ${table} WHERE scan_id = $1 ORDER BY ${columns}`, [scanId])).rows;
    return {
      scan: await read('scan_summaries', 'check_id, region, severity, status, muted, delta, findings'),
      groups: await read('finding_group_summaries', 'check_id, pass_count, fail_count, manual_count, new_count'),
      overview: await read('scan_overview_summaries', 'service, region, severity, status, muted, delta, findings'),
    };
  }

  /** Backends of this database waiting for an advisory lock. */
  async function waitingForAdvisoryLock(): Promise<number> {
    const { rows } = await admin.query(
      `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND wait_event = 'advisory'`,
    );
    return rows[0].n;
  }

  it('makes a second aggregation of the scan wait for the first, then replace its rows', async () => {
    const database = app.app.get(TenantDatabase).app;
    await rlsTransaction(database, tenantId, (m) => aggregateScan(m, scanId));
    const alone = await summaries();
    assert.ok((alone as { scan: unknown[] }).scan.length > 0);

    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let firstDone!: () => void;
    const firstAggregated = new Promise<void>((resolve) => (firstDone = resolve));
    const first = rlsTransaction(database, tenantId, async (m) => {
      await aggregateScan(m, scanId);
      firstDone();
      // The first aggregation's rows stay uncommitted, and its lock held, until the second is seen waiting.
      await held;
    });
    await firstAggregated;
    let secondFinished = false;
    const second = rlsTransaction(database, tenantId, (m) => aggregateScan(m, scanId)).then(() => {
      secondFinished = true;
    });

    try {
      await waitFor('the second aggregation to wait for the first', async () => (await waitingForAdvisoryLock()) > 0, 10_000);
      assert.equal(secondFinished, false);
    } finally {
      release();
    }
    await Promise.all([first, second]);
    assert.deepEqual(await summaries(), alone);
  });
});
