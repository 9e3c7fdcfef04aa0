import { AwsSecurityFinding, BatchImportFindingsCommand, DescribeHubCommand, SecurityHubClient } from '@aws-sdk/client-securityhub';
import { IntegrationsConfig } from '../../config/app-config';
import { IntegrationRefusedError, requestSignal } from '../integration-errors';
import { AwsCredentials } from '../integration-types';
import { awsClientSettings, awsError } from './aws-target';

/** Security Hub's limit per BatchImportFindings call. */
export const SECURITY_HUB_BATCH = 100;

/** Security Hub in each region a scan's findings name, one client per region. */
export class SecurityHubTarget {
  private readonly clients = new Map<string, SecurityHubClient>();

  constructor(
    private readonly credentials: AwsCredentials,
    private readonly config: IntegrationsConfig,
  ) {}

  /** Sends one batch (at most 100 findings of one region); fails when Security Hub rejected any of them. */
  async import(region: string, findings: AwsSecurityFinding[], signal: AbortSignal): Promise<number> {
    if (findings.length > SECURITY_HUB_BATCH) throw new Error(`A Security Hub batch holds at most ${SECURITY_HUB_BATCH} findings.`);
    let answer;
    try {
      answer = await this.client(region).send(new BatchImportFindingsCommand({ Findings: findings }), {
        abortSignal: requestSignal(signal, this.config.requestTimeoutMs),
      });
    } catch (error) {
      throw awsError('AWS Security Hub', error, signal);
    }
    if ((answer.FailedCount ?? 0) > 0) {
      const first = answer.FailedFindings?.[0];
      throw new IntegrationRefusedError(`AWS Security Hub rejected ${answer.FailedCount} finding(s) in ${region}${first ? ` (${first.ErrorCode}: ${first.ErrorMessage})` : ''}.`);
    }
    return answer.SuccessCount ?? findings.length;
  }

  /** Security Hub is enabled for the account in the region, and the keys may read it. */
  async check(region: string, signal: AbortSignal): Promise<void> {
    try {
      await this.client(region).send(new DescribeHubCommand({}), { abortSignal: requestSignal(signal, this.config.requestTimeoutMs) });
    } catch (error) {
      throw awsError('AWS Security Hub', error, signal);
    }
  }

  close(): void {
    for (const client of this.clients.values()) client.destroy();
  }

  private client(region: string): SecurityHubClient {
    let client = this.clients.get(region);
    if (!client) {
      client = new SecurityHubClient(awsClientSettings(this.credentials, this.config, region, this.config.securityHubEndpointUrl));
      this.clients.set(region, client);
    }
    return client;
  }
}
