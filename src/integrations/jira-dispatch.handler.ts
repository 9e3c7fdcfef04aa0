import { Injectable } from '@nestjs/common';
import { JobArguments } from '../tasks/jobs/job-definitions';
import { isTransient, JobOutcomeError } from '../tasks/jobs/job-errors';
import { TenantJobContext } from '../tasks/jobs/job-context';
import { JobHandler } from '../tasks/jobs/job-handler.decorator';
import { TenantJob } from '../tasks/jobs/tenant-job.wrapper';
import { findDelivery, recordSentPart, settleDelivery } from './deliveries.repository';
import { IntegrationRefusedError } from './integration-errors';
import { IntegrationTargets } from './integration-targets';
import { findStoredIntegration } from './integrations.repository';
import { jiraFinding } from './jira-findings.repository';

/** Prowler's message when an issue could not be created for an unstated reason. */
const GENERIC_SEND_ERROR = 'Failed to create Jira issue.';

/**
 * One Jira issue per finding (the findings were checked against the
 * caller's visibility when the dispatch was requested). Each issue created
 * is noted under the task's id, so a retry of the job creates only the
 * missing ones. The result is Prowler's: `created_count`, `failed_count`
 * and the distinct errors.
 */
@JobHandler('integration-jira-dispatch')
@Injectable()
export class JiraDispatchHandler {
  constructor(private readonly targets: IntegrationTargets) {}

  @TenantJob({ transaction: 'step', keepTenant: true })
  async process(args: JobArguments['integration-jira-dispatch'] & { tenantId: string }, context: TenantJobContext): Promise<unknown> {
    const runId = context.taskId ?? context.jobId;
    const integration = await context.inTenant(() => findStoredIntegration(args.integrationId));
    if (!integration || integration.integration_type !== 'jira') throw new JobOutcomeError('integration_missing', 'The Jira integration was deleted.');
    const jira = this.targets.jira(args.tenantId, integration);
    const delivery = await context.inTenant(() => findDelivery(integration.id, runId));
    // Each part is `<finding id>:<issue key>`.
    const sent = new Set((delivery?.sent_parts ?? []).map((part) => part.slice(0, part.indexOf(':'))));
    let created = 0;
    const errors: string[] = [];
    for (const findingId of args.findingIds) {
      if (sent.has(findingId)) {
        created++;
        continue;
      }
      const finding = await context.inTenant(() => jiraFinding(findingId));
      if (!finding) {
        errors.push('The finding no longer exists.');
        continue;
      }
      try {
        const key = await jira.createIssue(args.projectKey, args.issueType, finding, context.signal);
        await context.inTenant(() => recordSentPart(integration.id, runId, `${findingId}:${key}`));
        created++;
      } catch (error) {
        // A target down or too slow retries the job (issues already created are skipped); a refusal is this finding's error.
        if (context.signal.aborted || isTransient(error)) throw error;
        errors.push(error instanceof IntegrationRefusedError ? error.message : GENERIC_SEND_ERROR);
      }
    }
    const failed = args.findingIds.length - created;
    await context.inTenant(() => settleDelivery(integration.id, runId, failed === 0 ? 'sent' : 'refused', errors.length ? [...new Set(errors)].join('; ') : null));
    return { created_count: created, failed_count: failed, ...(errors.length ? { error: [...new Set(errors)].join('; ') } : {}) };
  }
}
