import { Inject, Injectable } from '@nestjs/common';
import { AppConfig, IntegrationsConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { IntegrationCredentials } from './integration-credentials';
import { AwsCredentials, JiraCredentials, S3Configuration, SlackConfiguration, SlackCredentials } from './integration-types';
import { StoredIntegration } from './integrations.repository';
import { JiraTarget } from './targets/jira-target';
import { S3Target } from './targets/s3-target';
import { SecurityHubTarget } from './targets/security-hub-target';
import { SlackTarget } from './targets/slack-target';

/** Builds the client of an integration's target, decrypting its credentials for that client alone. */
@Injectable()
export class IntegrationTargets {
  readonly config: IntegrationsConfig;

  constructor(
    @Inject(APP_CONFIG) appConfig: AppConfig,
    private readonly credentials: IntegrationCredentials,
  ) {
    this.config = appConfig.integrations;
  }

  s3(tenantId: string, integration: StoredIntegration): S3Target {
    return new S3Target(integration.configuration as unknown as S3Configuration, this.open<AwsCredentials>(tenantId, integration), this.config);
  }

  securityHub(tenantId: string, integration: StoredIntegration): SecurityHubTarget {
    return new SecurityHubTarget(this.open<AwsCredentials>(tenantId, integration), this.config);
  }

  slack(tenantId: string, integration: StoredIntegration): SlackTarget {
    return new SlackTarget(integration.configuration as unknown as SlackConfiguration, this.open<SlackCredentials>(tenantId, integration), this.config);
  }

  jira(tenantId: string, integration: StoredIntegration): JiraTarget {
    return new JiraTarget(this.open<JiraCredentials>(tenantId, integration), this.config);
  }

  private open<T>(tenantId: string, integration: StoredIntegration): T {
    return this.credentials.open<T>(tenantId, integration.id, integration.credentials);
  }
}
