import { Inject, Injectable } from '@nestjs/common';
import { ApiError } from '../common/errors/api-error';
import { ParsedQuery, QuerySpec } from '../common/jsonapi/query-spec';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { currentPrincipal } from '../database/tenant-context';
import { newId } from '../database/uuid';
import { ProvidersService } from '../providers/providers.service';
import { addLinks, replaceLinks } from '../rbac/link-table';
import { RelatedIds } from '../rbac/relationship-ids';
import { TaskRow } from '../tasks/task.resource';
import { TasksService } from '../tasks/tasks.service';
import { IntegrationCredentials } from './integration-credentials';
import { IntegrationType, validateSettings, ValidatedSettings } from './integration-types';
import { CreateIntegrationAttributes, UpdateIntegrationAttributes } from './integration.dto';
import { IntegrationRow } from './integration.resource';
import {
  deleteIntegration,
  findStoredIntegration,
  findVisibleIntegration,
  insertIntegration,
  INTEGRATION_PROVIDERS,
  IntegrationChanges,
  linksHiddenProviders,
  listIntegrations,
  providerWithSecurityHub,
  sameConfigurationExists,
  updateIntegration,
} from './integrations.repository';

const PROVIDERS_POINTER = { pointer: '/data/relationships/providers' };
const CONFIGURATION_POINTER = { pointer: '/data/attributes/configuration' };

/**
 * Integrations as the API manages them. Reads follow provider visibility
 * (integrations.repository); writes may link only providers the caller
 * sees, and may not touch an integration linked to providers they do not.
 */
@Injectable()
export class IntegrationsService {
  private readonly allowLocalTargets: boolean;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly providers: ProvidersService,
    private readonly credentials: IntegrationCredentials,
    private readonly tasks: TasksService,
  ) {
    this.allowLocalTargets = config.integrations.allowLocalTargets;
  }

  list(query: ParsedQuery, spec: QuerySpec): Promise<{ rows: IntegrationRow[]; count: number }> {
    return listIntegrations(query, spec);
  }

  async get(id: string): Promise<IntegrationRow> {
    const integration = await findVisibleIntegration(id);
    if (!integration) throw ApiError.notFound();
    return integration;
  }

  async create(attributes: CreateIntegrationAttributes, providerIds: RelatedIds | undefined): Promise<IntegrationRow> {
    const type = attributes.integration_type;
    const settings = validateSettings(type, attributes.configuration, attributes.credentials, this.allowLocalTargets);
    const links = providerIds?.ids ?? [];
    if (providerIds) await this.providers.requireVisibleProviders(providerIds.ids, providerIds.pointerOf);
    await this.checkProviders(type, links, null);
    await this.refuseDuplicate(type, settings, null);
    const id = newId();
    const tenantId = currentPrincipal().tenantId;
    const envelope = this.credentials.seal(tenantId, id, settings.credentials);
    await insertIntegration({ id, tenantId, type, enabled: attributes.enabled ?? true, configuration: settings.configuration, credentials: envelope.credentials, keyId: envelope.keyId });
    await addLinks(INTEGRATION_PROVIDERS, id, links);
    return this.get(id);
  }

  async update(id: string, attributes: UpdateIntegrationAttributes, providerIds: RelatedIds | undefined): Promise<IntegrationRow> {
    await this.getForWrite(id);
    const stored = (await findStoredIntegration(id))!;
    const type = stored.integration_type;
    if (attributes.integration_type !== undefined && attributes.integration_type !== type) {
      throw ApiError.badRequest('invalid', 'integration_type cannot be changed; create another integration instead.', { pointer: '/data/attributes/integration_type' });
    }
    const changes: IntegrationChanges = { enabled: attributes.enabled };
    if (attributes.configuration !== undefined || attributes.credentials !== undefined) {
      const tenantId = currentPrincipal().tenantId;
      const currentCredentials = attributes.credentials ?? this.credentials.open<Record<string, unknown>>(tenantId, id, stored.credentials);
      // Jira's configuration is ours (domain, projects, issue types); a client may only send it empty.
      const configuration = type === 'jira' ? (attributes.configuration ?? {}) : (attributes.configuration ?? stored.configuration);
      const settings = validateSettings(type, configuration, currentCredentials, this.allowLocalTargets);
      await this.refuseDuplicate(type, settings, id);
      changes.configuration = type === 'jira' ? jiraConfiguration(stored.configuration, settings.configuration.domain as string) : settings.configuration;
      if (attributes.credentials !== undefined) changes.envelope = this.credentials.seal(tenantId, id, settings.credentials);
    }
    if (providerIds) {
      await this.providers.requireVisibleProviders(providerIds.ids, providerIds.pointerOf);
      await this.checkProviders(type, providerIds.ids, id);
    }
    await updateIntegration(id, changes);
    if (providerIds) await replaceLinks(INTEGRATION_PROVIDERS, id, providerIds.ids);
    return this.get(id);
  }

  async remove(id: string): Promise<void> {
    await this.getForWrite(id);
    await deleteIntegration(id);
  }

  async checkConnection(id: string): Promise<TaskRow> {
    await this.get(id);
    return this.tasks.enqueue({ name: 'integration-connection-check', args: { integrationId: id } });
  }

  /** An integration the caller sees and may change: none of its providers is hidden from them (403 otherwise, as Prowler). */
  async getForWrite(id: string): Promise<IntegrationRow> {
    const integration = await this.get(id);
    if (await linksHiddenProviders(id)) throw ApiError.forbidden('The integration is attached to providers outside the visibility of your role.');
    return integration;
  }

  /** Prowler's rules on which providers a type takes. */
  private async checkProviders(type: IntegrationType, providerIds: readonly string[], integrationId: string | null): Promise<void> {
    if (type === 'jira' && providerIds.length > 0) {
      throw ApiError.badRequest('invalid', 'A Jira integration applies to every provider; it takes no providers relationship.', PROVIDERS_POINTER);
    }
    if (type !== 'aws_security_hub') return;
    if (providerIds.length !== 1) {
      throw ApiError.badRequest('invalid', 'A Security Hub integration needs exactly one provider.', PROVIDERS_POINTER);
    }
    const provider = await this.providers.getVisibleProvider(providerIds[0], '/data/relationships/providers/data/0');
    if (provider.provider !== 'aws') throw ApiError.badRequest('invalid', 'The provider must be AWS type for the Security Hub integration.', PROVIDERS_POINTER);
    const taken = await providerWithSecurityHub(providerIds, integrationId);
    if (taken) {
      throw ApiError.conflict('unique', `Provider ${taken} already has a Security Hub integration. Only one Security Hub integration is allowed per provider.`, PROVIDERS_POINTER);
    }
  }

  /** Prowler answers 409 to a second S3 integration with the same configuration, or a second Jira one for the same site. */
  private async refuseDuplicate(type: IntegrationType, settings: ValidatedSettings, exceptId: string | null): Promise<void> {
    const match =
      type === 'amazon_s3' ? settings.configuration : type === 'jira' ? { domain: settings.configuration.domain } : null;
    if (match && (await sameConfigurationExists(type, match, exceptId))) {
      throw ApiError.conflict('unique', 'This integration already exists.', CONFIGURATION_POINTER);
    }
  }
}

/** A Jira integration's configuration after its credentials change: another site's projects and issue types no longer apply. */
function jiraConfiguration(current: Record<string, unknown>, domain: string): Record<string, unknown> {
  return current.domain === domain ? { ...current, domain } : { domain, projects: {}, issue_types: {} };
}
