import { Inject, Injectable } from '@nestjs/common';
import { ApiError } from '../common/errors/api-error';
import { ParsedQuery } from '../common/jsonapi/query-spec';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { currentPrincipal } from '../database/tenant-context';
import { TaskRow } from '../tasks/task.resource';
import { TasksService } from '../tasks/tasks.service';
import { TransientJobError } from '../tasks/jobs/job-errors';
import { IntegrationRefusedError } from './integration-errors';
import { JiraConfiguration } from './integration-types';
import { JiraDispatchAttributes } from './integration.dto';
import { JiraIssueTypesRow } from './integration.resource';
import { IntegrationTargets } from './integration-targets';
import { findStoredIntegration, StoredIntegration } from './integrations.repository';
import { IntegrationsService } from './integrations.service';
import { visibleFindingIds } from './jira-findings.repository';

/** The most findings one dispatch sends: each is an issue, created one request at a time. */
const MAX_DISPATCH_FINDINGS = 1000;

/**
 * Jira's two extra operations. A Jira integration is tenant-wide, so any
 * caller with manage_integrations may use it; the findings it sends are
 * only those of providers the caller sees.
 */
@Injectable()
export class JiraService {
  private readonly timeoutMs: number;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly integrations: IntegrationsService,
    private readonly targets: IntegrationTargets,
    private readonly tasks: TasksService,
  ) {
    this.timeoutMs = config.integrations.requestTimeoutMs;
  }

  /**
   * Asks Jira for the project's issue types (within the integration timeout).
   * The project must be one the connection check found. Prowler also writes
   * the answer into the configuration; a GET here runs in a read-only
   * transaction (on the replica when there is one), so it is answered only.
   */
  async issueTypes(integrationId: string, projectKey: string | undefined): Promise<JiraIssueTypesRow> {
    const integration = await this.jiraIntegration(integrationId);
    if (!projectKey) throw ApiError.badRequest('required', "The 'project_key' query parameter is required.", { parameter: 'project_key' });
    const configuration = integration.configuration as unknown as JiraConfiguration;
    if (!Object.hasOwn(configuration.projects ?? {}, projectKey)) {
      throw ApiError.badRequest('invalid', 'The given project key is not available for this Jira integration; check its connection first.', { parameter: 'project_key' });
    }
    let issueTypes: string[];
    try {
      issueTypes = await this.targets.jira(currentPrincipal().tenantId, integration).issueTypes(projectKey, AbortSignal.timeout(this.timeoutMs));
    } catch (error) {
      // Our own wording only (refusals, timeouts); anything else could quote more than it should.
      const reason = error instanceof IntegrationRefusedError || error instanceof TransientJobError ? error.message : 'Jira could not be reached.';
      // 400 as in Prowler, which answers a failed look-up as a validation error asking to check the connection.
      throw ApiError.badRequest('invalid', `Failed to fetch issue types from Jira; check the integration's connection. ${reason}`, { parameter: 'project_key' });
    }
    return { id: integrationId, project_key: projectKey, issue_types: issueTypes };
  }

  async dispatch(integration: StoredIntegration, attributes: JiraDispatchAttributes, query: ParsedQuery): Promise<TaskRow> {
    if (!integration.enabled) throw ApiError.badRequest('invalid', 'The given integration is not enabled.', { pointer: '/data' });
    const configuration = integration.configuration as unknown as JiraConfiguration;
    if (!Object.hasOwn(configuration.projects ?? {}, attributes.project_key)) {
      throw ApiError.badRequest('invalid', 'The given project key is not available for this Jira integration.', { pointer: '/data/attributes/project_key' });
    }
    const requested = query.filters.flatMap((filter) => (Array.isArray(filter.value) ? filter.value : [filter.value])).map(String);
    if (requested.length === 0) throw ApiError.badRequest('required', 'At least one finding filter must be provided.', { parameter: 'filter[finding_id]' });
    const unique = [...new Set(requested.map((id) => id.toLowerCase()))];
    if (unique.length > MAX_DISPATCH_FINDINGS) {
      throw ApiError.badRequest('invalid', `A dispatch sends at most ${MAX_DISPATCH_FINDINGS} findings.`, { parameter: 'filter[finding_id__in]' });
    }
    const findingIds = await visibleFindingIds(unique);
    if (findingIds.length === 0) throw ApiError.notFound('No finding matches the filters.');
    return this.tasks.enqueue({
      name: 'integration-jira-dispatch',
      args: { integrationId: integration.id, projectKey: attributes.project_key, issueType: attributes.issue_type, findingIds },
    });
  }

  /** A Jira integration the caller sees; 404 for any other id, 400 when it is of another type. */
  async jiraIntegration(id: string): Promise<StoredIntegration> {
    const visible = await this.integrations.get(id);
    if (visible.integration_type !== 'jira') throw ApiError.badRequest('invalid', 'The given integration is not a Jira integration.', { parameter: 'integration_pk' });
    return (await findStoredIntegration(id))!;
  }
}
