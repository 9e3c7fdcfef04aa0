import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { LocalAppModule } from '../../src/local-app.module';
import { TenantDatabase } from '../../src/database/tenant-database';
import { TasksService } from '../../src/tasks/tasks.service';
import { DeletionRetrySweeper } from '../../src/tasks/worker/deletion-retry-sweeper';
import { SignedUpUser, signUp } from '../support/http-client';
import { startTestApp, TestApp } from '../support/test-app';
import { adminRows, fastQueueEnv, insertProvider, waitFor, waitForTaskEnd } from '../support/tasks-fixture';

/**
 * The deletion-retry sweep: a soft-deleted provider or tenant whose deletion
 * task failed or was cancelled gets a new one, and its data goes. Ended tasks
 * are written as the owner role with completed_at in the past, so the test
 * keeps the default back-off and never reaches other files' providers.
 */
describe('deletion retry sweep', () => {
  let app: TestApp;
  let alice: SignedUpUser;
  let sweeper: DeletionRetrySweeper;

  before(async () => {
    app = await startTestApp({ ...fastQueueEnv('deletion-retry'), WORKERS_IN_PROCESS: 'true', DELETION_BATCH_SIZE: '2' }, LocalAppModule);
    alice = await signUp(app.baseUrl, 'alice');
    sweeper = app.app.get(DeletionRetrySweeper);
  });
  after(() => app.close());

  async function providerWithScans(tenantId: string, scans = 0): Promise<string> {
    const providerId = await insertProvider(tenantId);
    for (let i = 0; i < scans; i++) {
      await adminRows(`INSERT INTO scans (id, tenant_id, provider_id, name, trigger) VALUES ($1, $2, $3, 'old scan', 'manual')`, [randomUUID(), tenantId, providerId]);
    }
    return providerId;
  }

  /**
   * The last step of every setup: other processes of the suite run their own
   * sweeps, and a provider soft-deleted before its task rows exist would look
   * to them like one whose deletion never started.
   */
  async function softDelete(providerId: string): Promise<void> {
    await adminRows(`UPDATE providers SET deleted_at = now() - interval '2 hours' WHERE id = $1`, [providerId]);
  }

  async function softDeletedProvider(tenantId: string, scans = 0): Promise<string> {
    const providerId = await providerWithScans(tenantId, scans);
    await softDelete(providerId);
    return providerId;
  }

  /** A deletion task that ended `endedAgo` ago, as one the worker gave up on or a user cancelled. */
  async function endedTask(tenantId: string, name: string, providerId: string | null, state: string, endedAgo: string): Promise<string> {
    const id = randomUUID();
    await adminRows(
      `INSERT INTO tasks (id, tenant_id, provider_id, name, queue, queue_namespace, state, task_args, inserted_at, completed_at, updated_at)
       VALUES ($1, $2, $3, $4, 'deletion', $5, $6, $7, now() - interval '3 hours', now() - $8::interval, now() - $8::interval)`,
      [id, tenantId, providerId, name, app.config.redis.prefix, state, JSON.stringify(providerId ? { providerId } : {}), endedAgo],
    );
    return id;
  }

  const deletionTasks = (providerId: string) =>
    adminRows<{ id: string; state: string; metadata: Record<string, unknown> }>(
      `SELECT id, state, metadata FROM tasks WHERE provider_id = $1 AND name = 'provider-deletion' ORDER BY inserted_at`,
      [providerId],
    );

  it('a provider whose deletion was cancelled gets one new deletion task, even from concurrent sweeps, and its data goes', async () => {
    const providerId = await providerWithScans(alice.tenantId, 3);
    const cancelled = await endedTask(alice.tenantId, 'provider-deletion', providerId, 'cancelled', '1 hour');
    await softDelete(providerId);

    await Promise.all([sweeper.sweep(), sweeper.sweep(), sweeper.sweep()]);
    const tasks = await deletionTasks(providerId);
    assert.equal(tasks.length, 2, JSON.stringify(tasks));
    assert.equal(tasks[1].metadata.retry_of, cancelled);

    assert.equal((await waitForTaskEnd(tasks[1].id)).state, 'completed');
    assert.equal((await adminRows(`SELECT 1 FROM providers WHERE id = $1`, [providerId])).length, 0);
    assert.equal((await adminRows(`SELECT 1 FROM scans WHERE provider_id = $1`, [providerId])).length, 0);
  });

  it('a failed deletion is retried too, and a soft-deleted provider with no deletion task at all gets one', async () => {
    const failedOne = await providerWithScans(alice.tenantId, 1);
    await endedTask(alice.tenantId, 'provider-deletion', failedOne, 'failed', '1 hour');
    await softDelete(failedOne);
    const orphan = await softDeletedProvider(alice.tenantId, 1);

    await sweeper.sweep();
    for (const [providerId, expected] of [[failedOne, 2], [orphan, 1]] as const) {
      const tasks = await deletionTasks(providerId);
      assert.equal(tasks.length, expected, JSON.stringify(tasks));
      assert.equal((await waitForTaskEnd(tasks[expected - 1].id)).state, 'completed');
      assert.equal((await adminRows(`SELECT 1 FROM scans WHERE provider_id = $1`, [providerId])).length, 0);
    }
  });

  it('leaves alone a deletion that ended within the back-off, one that completed, and one still live', async () => {
    const recent = await providerWithScans(alice.tenantId);
    await endedTask(alice.tenantId, 'provider-deletion', recent, 'failed', '1 minute');
    const completed = await providerWithScans(alice.tenantId);
    await endedTask(alice.tenantId, 'provider-deletion', completed, 'completed', '1 hour');
    const live = await providerWithScans(alice.tenantId);
    await endedTask(alice.tenantId, 'provider-deletion', live, 'cancelled', '2 hours');
    const database = app.app.get(TenantDatabase);
    const tasksService = app.app.get(TasksService);
    // Scheduled for later: live for the whole test.
    await database.transaction(alice.tenantId, () =>
      tasksService.enqueue({ name: 'provider-deletion', args: { providerId: live } }, { delayMs: 60 * 60 * 1000 }),
    );
    for (const providerId of [recent, completed, live]) await softDelete(providerId);

    await sweeper.sweep();
    await sweeper.sweep();
    assert.equal((await deletionTasks(recent)).length, 1);
    assert.equal((await deletionTasks(completed)).length, 1);
    const liveTasks = await deletionTasks(live);
    assert.equal(liveTasks.length, 2);
    assert.equal(liveTasks[1].state, 'scheduled');
    for (const providerId of [recent, completed, live]) {
      assert.equal((await adminRows(`SELECT 1 FROM providers WHERE id = $1`, [providerId])).length, 1);
    }
  });

  it('a tenant whose deletion failed gets a new tenant deletion, and the tenant goes', async () => {
    const carol = await signUp(app.baseUrl, 'carol');
    const providerId = await insertProvider(carol.tenantId);
    await adminRows(`INSERT INTO scans (id, tenant_id, provider_id, name, trigger) VALUES ($1, $2, $3, 'old scan', 'manual')`, [randomUUID(), carol.tenantId, providerId]);
    await endedTask(carol.tenantId, 'tenant-deletion', null, 'failed', '1 hour');
    await adminRows(`UPDATE tenants SET deleted_at = now() - interval '2 hours' WHERE id = $1`, [carol.tenantId]);

    await sweeper.sweep();
    await waitFor('the tenant to be gone', async () => (await adminRows(`SELECT 1 FROM tenants WHERE id = $1`, [carol.tenantId])).length === 0);
    assert.equal((await adminRows(`SELECT 1 FROM scans WHERE tenant_id = $1`, [carol.tenantId])).length, 0);
  });
});
