import { Injectable } from '@nestjs/common';
import { rows } from '../../database/sql';
import { aggregateScanCompliance } from '../../findings/compliance/compliance-aggregation';
import { aggregateScan } from '../../findings/overviews/scan-aggregation';
import { JobArguments } from '../../tasks/jobs/job-definitions';
import { TenantJobContext } from '../../tasks/jobs/job-context';
import { JobHandler } from '../../tasks/jobs/job-handler.decorator';
import { TenantJob } from '../../tasks/jobs/tenant-job.wrapper';
import { applyMutingChanges, mutingChanges, readLatestFindings } from './mutelist-backfill';
import { CompiledMutelist } from './mutelist-matcher';
import { takesMutelist, tenantMutelist } from './tenant-mutelist';

/** Latest findings read, decided and written per transaction. */
const PAGE = 1000;

/**
 * After the tenant's Mutelist was written or removed: the latest finding of
 * every check and resource of each provider is brought in line with the
 * Mutelist in force when the job runs (compiled once for the whole job), a
 * page per transaction, then the summaries of the scans touched are rebuilt.
 * Idempotent: a second run, or a retry, finds nothing left to change.
 */
@JobHandler('mutelist-backfill')
@Injectable()
export class MutelistBackfillHandler {
  @TenantJob({ transaction: 'step' })
  async process(_args: JobArguments['mutelist-backfill'], context: TenantJobContext): Promise<unknown> {
    const { document, providers } = await context.inTenant(async (manager) => ({
      document: await tenantMutelist(manager),
      providers: await rows<{ id: string; provider: string; uid: string }>(manager, `SELECT id, provider, uid FROM providers WHERE deleted_at IS NULL ORDER BY id`),
    }));
    const mutelist = document ? new CompiledMutelist(document) : null;
    const touched = new Set<string>();
    let findingsChanged = 0;
    for (const [index, provider] of providers.entries()) {
      const providerList = takesMutelist(provider.provider) ? mutelist : null;
      let afterUid = '';
      for (;;) {
        context.signal.throwIfAborted();
        const page = await context.inTenant(async (manager) => {
          const findings = await readLatestFindings(manager, provider.id, afterUid, PAGE);
          const changes = mutingChanges(providerList, provider.uid, findings);
          for (const scanId of await applyMutingChanges(manager, provider.id, changes)) touched.add(scanId);
          findingsChanged += changes.length;
          return findings;
        });
        if (page.length < PAGE) break;
        afterUid = page[page.length - 1].uid;
      }
      await context.progress(Math.floor(((index + 1) / (providers.length + 1)) * 100));
    }
    // Each scan's summaries in one transaction: readers see the old figures or the new ones.
    for (const scanId of touched) {
      await context.inTenant(async (manager) => {
        await aggregateScan(manager, scanId);
        await aggregateScanCompliance(manager, scanId);
      });
    }
    return { mutelist: document !== null, findings_changed: findingsChanged, scans_reaggregated: touched.size };
  }
}
