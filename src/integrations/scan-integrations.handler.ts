import { Inject, Injectable } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { tenantManager } from '../database/tenant-context';
import { ReportScan, reportScan } from '../findings/reports/report-findings';
import { ReportStorage } from '../findings/reports/report-storage';
import { JobArguments } from '../tasks/jobs/job-definitions';
import { isTransient, JobOutcomeError, TransientJobError } from '../tasks/jobs/job-errors';
import { TenantJobContext } from '../tasks/jobs/job-context';
import { JobHandler } from '../tasks/jobs/job-handler.decorator';
import { ProviderJob } from '../tasks/jobs/provider-job.wrapper';
import { TenantJob } from '../tasks/jobs/tenant-job.wrapper';
import { findDelivery, recordSentPart, settleDelivery } from './deliveries.repository';
import { DeliveryRun, DeliverySummary } from './delivery/delivery-run';
import { deliverToS3 } from './delivery/s3-delivery';
import { deliverToSecurityHub } from './delivery/security-hub-delivery';
import { deliverToSlack } from './delivery/slack-delivery';
import { IntegrationRefusedError } from './integration-errors';
import { IntegrationTargets } from './integration-targets';
import { enabledIntegrationsOf, StoredIntegration } from './integrations.repository';

interface IntegrationOutcome {
  integration: string;
  integration_type: string;
  status: 'sent' | 'already_sent' | 'refused' | 'retrying';
  error?: string;
  summary?: DeliverySummary;
}

/**
 * After a scan, on the `integrations` queue: each enabled integration linked
 * to the scan's provider delivers once. One integration failing never stops
 * the others, and never touches the scan. Each part sent is noted at once
 * (integration_deliveries), so a retry sends only what is missing; a target
 * that refused for good (401/403, a missing bucket) is not tried again.
 * Transient failures (a target down or too slow, the report not written
 * yet) retry the job with backoff once the other integrations are done.
 */
@JobHandler('scan-integrations')
@Injectable()
export class ScanIntegrationsHandler {
  private readonly apiBaseUrl: string;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly targets: IntegrationTargets,
    private readonly reports: ReportStorage,
  ) {
    this.apiBaseUrl = config.saml.apiBaseUrl;
  }

  @TenantJob({ transaction: 'step', keepTenant: true })
  @ProviderJob()
  async process({ scanId, providerId, tenantId }: JobArguments['scan-integrations'] & { tenantId: string }, context: TenantJobContext): Promise<unknown> {
    const { scan, integrations } = await context.inTenant(async (manager) => ({
      scan: await reportScan(manager, scanId),
      integrations: await enabledIntegrationsOf(providerId),
    }));
    if (!scan) throw new JobOutcomeError('scan_missing', 'The scan was removed.');
    const outcomes: IntegrationOutcome[] = [];
    let retry: TransientJobError | undefined;
    for (const integration of integrations) {
      const outcome = await this.deliver(tenantId, scan, integration, context);
      outcomes.push(outcome);
      if (outcome.status === 'retrying') retry ??= new TransientJobError(`${integration.integration_type} integration ${integration.id}: ${outcome.error}`);
    }
    if (retry) throw retry;
    const refused = outcomes.filter((outcome) => outcome.status === 'refused');
    if (refused.length > 0) {
      throw new JobOutcomeError('integration_refused', refused.map((outcome) => `${outcome.integration_type} integration ${outcome.integration}: ${outcome.error}`).join(' '));
    }
    return { integrations: outcomes };
  }

  private async deliver(tenantId: string, scan: ReportScan, integration: StoredIntegration, context: TenantJobContext): Promise<IntegrationOutcome> {
    const base = { integration: integration.id, integration_type: integration.integration_type };
    const delivery = await context.inTenant(() => findDelivery(integration.id, scan.id));
    if (delivery?.state === 'sent') return { ...base, status: 'already_sent' };
    if (delivery?.state === 'refused') return { ...base, status: 'refused', error: delivery.error ?? 'refused' };
    const run: DeliveryRun = {
      tenantId,
      scan,
      integration,
      alreadySent: new Set(delivery?.sent_parts ?? []),
      markSent: (part) => context.inTenant(() => recordSentPart(integration.id, scan.id, part)),
      inTenant: (fn) => context.inTenant(() => fn(tenantManager())),
      signal: context.signal,
    };
    try {
      const summary = await this.send(run);
      await context.inTenant(() => settleDelivery(integration.id, scan.id, 'sent', null));
      return { ...base, status: 'sent', summary };
    } catch (error) {
      // The job's own stop (cancel, time limit, shutdown) ends the whole job, not one integration.
      if (context.signal.aborted) throw error;
      if (isTransient(error)) {
        const message = error instanceof TransientJobError ? error.message : 'A temporary failure; it will be tried again.';
        await context.inTenant(() => settleDelivery(integration.id, scan.id, 'sending', message));
        return { ...base, status: 'retrying', error: message };
      }
      const message = error instanceof IntegrationRefusedError ? error.message : `The ${integration.integration_type} integration failed unexpectedly.`;
      await context.inTenant(() => settleDelivery(integration.id, scan.id, 'refused', message));
      return { ...base, status: 'refused', error: message };
    }
  }

  private async send(run: DeliveryRun): Promise<DeliverySummary> {
    const { integration, tenantId } = run;
    switch (integration.integration_type) {
      case 'amazon_s3': {
        const target = this.targets.s3(tenantId, integration);
        try {
          return await deliverToS3(run, target, this.reports);
        } finally {
          target.close();
        }
      }
      case 'aws_security_hub': {
        const target = this.targets.securityHub(tenantId, integration);
        try {
          return await deliverToSecurityHub(run, target);
        } finally {
          target.close();
        }
      }
      case 'slack':
        return deliverToSlack(run, this.targets.slack(tenantId, integration), this.apiBaseUrl);
      case 'jira':
        // Jira sends on request (dispatches), not after scans; it is never linked to providers anyway.
        return {};
    }
  }
}
