import { Injectable } from '@nestjs/common';
import { JobArguments } from '../tasks/jobs/job-definitions';
import { JobOutcomeError } from '../tasks/jobs/job-errors';
import { TenantJobContext } from '../tasks/jobs/job-context';
import { JobHandler } from '../tasks/jobs/job-handler.decorator';
import { TenantJob } from '../tasks/jobs/tenant-job.wrapper';
import { errorForFailure, IntegrationRefusedError } from './integration-errors';
import { IntegrationTargets } from './integration-targets';
import { findStoredIntegration, mergeConfiguration, recordConnection, StoredIntegration } from './integrations.repository';

/** The region a Security Hub check asks; findings later go to each finding's own region. */
const SECURITY_HUB_CHECK_REGION = 'us-east-1';

/**
 * Checks an integration against its target, per type as Prowler does: S3
 * writes and removes a test object, Security Hub describes the hub, Jira
 * lists the account's projects (and keeps them in the configuration, where
 * `issue_types` and dispatches look for them), Slack tests the token. The
 * answer is recorded on the integration (`connected`,
 * `connection_last_checked_at`); a target that refuses, cannot be reached or
 * does not answer in time gives `connected: false` with the reason in the
 * task's result. The target is called between two short transactions.
 */
@JobHandler('integration-connection-check')
@Injectable()
export class IntegrationConnectionCheckHandler {
  constructor(private readonly targets: IntegrationTargets) {}

  @TenantJob({ transaction: 'step', keepTenant: true })
  async process({ integrationId, tenantId }: JobArguments['integration-connection-check'] & { tenantId: string }, context: TenantJobContext): Promise<unknown> {
    const integration = await context.inTenant(() => findStoredIntegration(integrationId));
    if (!integration) throw new JobOutcomeError('integration_missing', 'The integration was deleted.');
    let learnt: Record<string, unknown> = {};
    let error: string | null = null;
    try {
      learnt = await this.check(tenantId, integration, context.signal);
    } catch (failure) {
      if (context.signal.aborted) throw failure;
      const reason = failure instanceof IntegrationRefusedError ? failure : errorForFailure(integration.integration_type, failure, context.signal);
      error = reason.message;
    }
    await context.inTenant(async () => {
      await recordConnection(integrationId, error === null);
      if (Object.keys(learnt).length > 0) await mergeConfiguration(integrationId, learnt);
    });
    return { connected: error === null, error };
  }

  /** Answers what the check learnt for the configuration (Jira's projects), or throws why it failed. */
  private async check(tenantId: string, integration: StoredIntegration, signal: AbortSignal): Promise<Record<string, unknown>> {
    switch (integration.integration_type) {
      case 'amazon_s3': {
        const target = this.targets.s3(tenantId, integration);
        try {
          await target.check(signal);
        } finally {
          target.close();
        }
        return {};
      }
      case 'aws_security_hub': {
        const target = this.targets.securityHub(tenantId, integration);
        try {
          await target.check(SECURITY_HUB_CHECK_REGION, signal);
        } finally {
          target.close();
        }
        return {};
      }
      case 'jira':
        return { projects: await this.targets.jira(tenantId, integration).projects(signal) };
      case 'slack':
        await this.targets.slack(tenantId, integration).check(signal);
        return {};
    }
  }
}
