import { Injectable } from '@nestjs/common';
import { ApiError } from '../common/errors/api-error';
import { rows } from '../database/sql';
import { tenantScope } from '../database/tenant-context';
import { ParsedQuery } from '../common/jsonapi/query-spec';
import { PROVIDER_LIST } from '../providers/provider-query-specs';
import { ProviderRow } from '../providers/provider.resource';
import { ProvidersService } from '../providers/providers.service';
import { PrincipalLoader } from '../rbac/principal-loader';
import { ScanSpool } from '../scans/spool/scan-spool';
import { JobArguments } from '../tasks/jobs/job-definitions';
import { CANCEL_REASON, JobOutcomeError } from '../tasks/jobs/job-errors';
import { TenantJobContext } from '../tasks/jobs/job-context';
import { JobHandler } from '../tasks/jobs/job-handler.decorator';
import { TenantJob } from '../tasks/jobs/tenant-job.wrapper';
import { ScanStarter } from '../tasks/scans/scan-starter';
import { inspectPushedFile } from './pushed-file';

/**
 * Findings the Prowler CLI pushed: the file is checked whole (no
 * transaction open meanwhile), then one short transaction, acting as the
 * user whose API key pushed it with their role as it is now, finds the
 * provider by type and account (or creates it when the role may manage
 * providers) and starts a manual scan with origin `pushed` whose
 * `scan-import` job ingests the file as an import is, follow-up jobs
 * included. Its result names the provider, the scan and that job's task.
 */
@JobHandler('scan-ingestion')
@Injectable()
export class ScanIngestionHandler {
  constructor(
    private readonly spool: ScanSpool,
    private readonly principals: PrincipalLoader,
    private readonly providers: ProvidersService,
    private readonly starter: ScanStarter,
  ) {}

  @TenantJob({ transaction: 'step' })
  async process({ uploadId, userId }: JobArguments['scan-ingestion'], context: TenantJobContext): Promise<unknown> {
      if (!(await this.spool.exists(uploadId))) {
        throw new JobOutcomeError('upload_missing', 'The pushed file is no longer in the import spool (SCAN_SPOOL_DIR); push it again.');
      }
      try {
        const origin = await inspectPushedFile(this.spool.uploadPath(uploadId), context.signal);
        await context.progress(50);
        return await context.inTenant(async (manager) => {
          const { tenantId } = tenantScope();
          const principal = await this.principals.load(manager, userId, tenantId);
          if (!principal) throw new JobOutcomeError('not_authorized', 'The user whose key pushed the file no longer belongs to the tenant.');
          if (!principal.permissions.has('manage_scans')) throw new JobOutcomeError('permission_denied', "The pushing user's role lacks 'manage_scans'.");
          tenantScope().principal = principal;

          const { provider, created } = await this.providerFor(origin.providerType, origin.accountUid, principal.permissions.has('manage_providers'));
          // The task belongs to its provider from now on, so a role that sees only some providers sees it.
          if (context.taskId) await rows(manager, `UPDATE tasks SET provider_id = $2 WHERE id = $1`, [context.taskId, provider.id]);
          const scanTask = await this.starter.startPushed(provider.id, uploadId, context.taskId ?? uploadId);
          const [scan] = await rows<{ id: string }>(manager, `SELECT id FROM scans WHERE task_id = $1`, [scanTask.id]);
          return {
            provider_id: provider.id,
            provider_created: created,
            provider: origin.providerType,
            uid: origin.accountUid,
            records: origin.records,
            scan_id: scan.id,
            scan_task_id: scanTask.id,
          };
        });
      } catch (error) {
        if (error instanceof JobOutcomeError || context.signal.reason === CANCEL_REASON) await this.spool.remove(uploadId);
        throw error;
      }
  }

  private async providerFor(type: ProviderRow['provider'], uid: string, mayCreate: boolean): Promise<{ provider: ProviderRow; created: boolean }> {
    const query: ParsedQuery = {
      filters: [{ field: 'provider', operator: 'eq', value: type }, { field: 'uid', operator: 'eq', value: uid }],
      sort: [], page: { mode: 'all' }, include: [], fields: {}, extra: {},
    };
    const { rows: found } = await this.providers.list(query, PROVIDER_LIST);
    if (found[0]) return { provider: found[0], created: false };
    if (!mayCreate) {
      throw new JobOutcomeError('provider_not_found', `No ${type} provider with uid '${uid}' that the pushing user can see, and their role may not create one (manage_providers).`);
    }
    try {
      return { provider: await this.providers.create({ provider: type, uid }), created: true };
    } catch (error) {
      if (error instanceof ApiError) throw new JobOutcomeError('provider_not_created', `The ${type} provider '${uid}' could not be created: ${error.detail}`);
      throw error;
    }
  }
}
