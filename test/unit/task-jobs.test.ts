import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { UnrecoverableError } from 'bullmq';
import { AppConfig } from '../../src/config/app-config';
import { deterministicId } from '../../src/tasks/jobs/deterministic-id';
import { JOB_DEFINITIONS, JOB_NAMES, JobName } from '../../src/tasks/jobs/job-definitions';
import { isTransient, ProviderDeletedError, TransientJobError } from '../../src/tasks/jobs/job-errors';
import { JobRuntime } from '../../src/tasks/jobs/job-context';
import { retryDelayMs, TASK_BACKOFF, taskBackoffStrategy } from '../../src/tasks/jobs/retry-backoff';
import { ProviderJob } from '../../src/tasks/jobs/provider-job.wrapper';
import { TenantJob, tenantJob } from '../../src/tasks/jobs/tenant-job.wrapper';
import { JobHandlerRegistry } from '../../src/tasks/worker/job-handler-registry';
import { QueueProcessor } from '../../src/tasks/worker/queue-processor';

function registry(testJobs: boolean): JobHandlerRegistry {
  return new JobHandlerRegistry(undefined as never, { tasks: { testJobs } } as AppConfig);
}

class TenantHandler {
  @TenantJob()
  async process(): Promise<unknown> {
    return undefined;
  }
}

class SystemHandler {
  async process(): Promise<unknown> {
    return undefined;
  }
}

const handlerFor = (name: JobName): object => (JOB_DEFINITIONS[name].system ? new SystemHandler() : new TenantHandler());

function everyJob(testJobs: boolean): Map<JobName, object[]> {
  return new Map(JOB_NAMES.filter((name) => testJobs || !JOB_DEFINITIONS[name].testOnly).map((name) => [name, [handlerFor(name)]]));
}

describe('job handler registry', () => {
  it('accepts exactly one handler per job, test-only jobs only under TEST_JOBS', () => {
    registry(false).register(everyJob(false));
    const withTests = registry(true);
    withTests.register(everyJob(true));
    assert.ok(withTests.processorFor('test-probe'));
    const withoutTests = registry(false);
    withoutTests.register(everyJob(true));
    assert.equal(withoutTests.processorFor('test-probe'), undefined);
  });

  it('refuses to start when a job has no handler or two', () => {
    const missing = everyJob(false);
    missing.delete('provider-deletion');
    assert.throws(() => registry(false).register(missing), /'provider-deletion' has no handler/);
    const doubled = everyJob(false);
    doubled.set('scan-perform', [new TenantHandler(), new TenantHandler()]);
    assert.throws(() => registry(false).register(doubled), /'scan-perform' has 2 handlers/);
    assert.throws(() => registry(true).register(everyJob(false)), /'test-probe' has no handler/);
  });

  it('refuses a tenant job whose handler is not under @TenantJob, and a system job whose handler is', () => {
    const unwrapped = everyJob(false);
    unwrapped.set('scan-compliance', [new SystemHandler()]);
    assert.throws(() => registry(false).register(unwrapped), /'scan-compliance' does not run under @TenantJob/);
    const wrapped = everyJob(false);
    wrapped.set('finding-partitions', [new TenantHandler()]);
    assert.throws(() => registry(false).register(wrapped), /system job 'finding-partitions' runs under @TenantJob/);
  });
});

describe('job decorators', () => {
  it('refuse @ProviderJob listed above @TenantJob: it must run inside the tenant transaction', () => {
    assert.throws(() => {
      class Misordered {
        @ProviderJob()
        @TenantJob()
        async process(): Promise<unknown> {
          return undefined;
        }
      }
      return Misordered;
    }, /list @ProviderJob below @TenantJob/);
  });

  it('give the queue processor three parameters, so BullMQ passes it the job\'s AbortSignal', () => {
    assert.equal(QueueProcessor.prototype.process.length, 3);
  });
});

describe('retries', () => {
  it('back off exponentially up to the maximum, with jitter in the upper half', () => {
    assert.equal(retryDelayMs(1, 1000, 60000, () => 0), 500);
    assert.equal(retryDelayMs(1, 1000, 60000, () => 1), 1000);
    assert.equal(retryDelayMs(4, 1000, 60000, () => 1), 8000);
    assert.equal(retryDelayMs(20, 1000, 60000, () => 1), 60000);
    for (let i = 0; i < 50; i++) {
      const delay = retryDelayMs(3, 1000, 60000);
      assert.ok(delay >= 2000 && delay <= 4000, String(delay));
    }
    const strategy = taskBackoffStrategy(100, 1000);
    assert.ok((strategy(2, TASK_BACKOFF) as number) <= 200);
    assert.equal(strategy(2, 'something-else'), -1);
  });

  it('count only transient errors as worth another attempt', () => {
    assert.equal(isTransient(new TransientJobError('busy')), true);
    assert.equal(isTransient(Object.assign(new Error('reset'), { code: 'ECONNRESET' })), true);
    assert.equal(isTransient({ driverError: { code: '40001' } }), true);
    assert.equal(isTransient({ driverError: { code: '08006' } }), true);
    assert.equal(isTransient({ driverError: { code: '23505' } }), false);
    assert.equal(isTransient(new Error('bug')), false);
    assert.equal(isTransient(new ProviderDeletedError('p')), false);
    assert.ok(new ProviderDeletedError('p') instanceof UnrecoverableError);
  });
});

describe('tenant wrapper', () => {
  it('refuses a job without a valid tenant before touching the database', async () => {
    const untouchable = new Proxy({}, { get: () => assert.fail('the database was used') });
    const processor = tenantJob(async () => assert.fail('the body ran'));
    const runtime = { database: untouchable, tasks: untouchable } as unknown as JobRuntime;
    for (const tenantId of [undefined, '', 'not-a-uuid', "x'; DROP TABLE tasks; --"]) {
      await assert.rejects(processor({ tenantId: tenantId as string, taskId: null, args: {} }, runtime), UnrecoverableError);
    }
  });
});

describe('deterministic ids', () => {
  it('are stable UUIDs that differ with their key', () => {
    const id = deterministicId('probe', 'job-1', '0');
    assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.equal(deterministicId('probe', 'job-1', '0'), id);
    assert.notEqual(deterministicId('probe', 'job-1', '1'), id);
    assert.notEqual(deterministicId('probe', 'job-10', ''), deterministicId('probe', 'job-1', '0'));
  });
});
