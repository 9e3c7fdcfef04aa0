import { Injectable } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { rows } from '../../database/sql';
import { tenantManager } from '../../database/tenant-context';
import { deterministicId } from '../jobs/deterministic-id';
import { ProbeArguments } from '../jobs/job-definitions';
import { TransientJobError } from '../jobs/job-errors';
import { TenantJobContext } from '../jobs/job-context';
import { JobHandler } from '../jobs/job-handler.decorator';
import { ProviderJob } from '../jobs/provider-job.wrapper';
import { TenantJob } from '../jobs/tenant-job.wrapper';

/**
 * Test-only (runs only with TEST_JOBS=true): reports which tenants' rows it
 * can see, then writes one scan row per step under an id derived from its
 * task and step, so a re-run after a crash rewrites instead of duplicating.
 */
@JobHandler('test-probe')
@Injectable()
export class TestProbeHandler {
  @TenantJob({ keepTenant: true, transaction: 'step' })
  @ProviderJob()
  async process(args: ProbeArguments & { tenantId: string }, context: TenantJobContext): Promise<unknown> {
    const [seen] = await context.inTenant(() =>
      rows<{ tenants: string[] | null; providers: string[] | null }>(
        tenantManager(),
        `SELECT array_agg(DISTINCT tenant_id) AS tenants, array_agg(id) AS providers FROM providers`,
      ),
    );
    if (args.failPermanently) throw new Error('probe: a permanent failure, on purpose');
    if (context.attempt <= (args.failTransientlyUntilAttempt ?? 0)) throw new TransientJobError(`probe: a transient failure on attempt ${context.attempt}, on purpose`);
    for (let step = 0; step < args.steps; step++) {
      await context.inTenant(() =>
        tenantManager().query(
          `INSERT INTO scans (id, tenant_id, provider_id, name, trigger, state) VALUES ($1, $2, $3, $4, 'manual', 'completed')
           ON CONFLICT (id) DO NOTHING`,
          [deterministicId('probe', context.jobId, String(step)), args.tenantId, args.providerId, `probe step ${step}`],
        ),
      );
      await context.progress(((step + 1) / args.steps) * 100);
      await sleep(args.stepMs, undefined, args.ignoreSignal ? {} : { signal: context.signal });
    }
    return { tenant: args.tenantId, tenants_seen: seen.tenants ?? [], providers_seen: seen.providers ?? [], attempt: context.attempt };
  }
}
