import { Body, Controller, Get, Param, Post } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { Endpoint } from '../common/http/endpoint.decorator';
import { JsonApiQuery, UuidPipe } from '../common/http/request-params';
import { renderDocument } from '../common/jsonapi/document';
import { ParsedQuery } from '../common/jsonapi/query-spec';
import { parseResourceBody } from '../common/jsonapi/request-body';
import { TaskAccepted } from '../tasks/task-accepted.decorator';
import { JiraDispatchAttributes } from './integration.dto';
import { JIRA_DISPATCH, JIRA_ISSUE_TYPES } from './integration-query-specs';
import { jiraIssueTypesResource } from './integration.resource';
import { JiraService } from './jira.service';

/** Parsed in the handler, after the integration is found (see dispatch), so declared once here for both. */
const DISPATCH_BODY = { type: 'integrations-jira-dispatches', attributes: JiraDispatchAttributes };

@ApiTags('Integration')
@Controller('integrations/:integration_pk/jira')
export class JiraController {
  constructor(private readonly jira: JiraService) {}

  @Get('issue_types')
  @Endpoint({ summary: "A Jira project's issue types", permissions: ['manage_integrations'], resource: jiraIssueTypesResource })
  async issueTypes(@Param('integration_pk', UuidPipe) integrationId: string, @JsonApiQuery(JIRA_ISSUE_TYPES) query: ParsedQuery) {
    return renderDocument(jiraIssueTypesResource, await this.jira.issueTypes(integrationId, query.extra.project_key), { fields: query.fields });
  }

  @Post('dispatches')
  @TaskAccepted({
    summary: 'Send findings to Jira, one issue each, in a task',
    permissions: ['manage_integrations'],
    body: { resource: DISPATCH_BODY },
  })
  async dispatch(@Param('integration_pk', UuidPipe) integrationId: string, @JsonApiQuery(JIRA_DISPATCH) query: ParsedQuery, @Body() body: unknown) {
    // The integration first: an id the caller cannot see is 404 whatever the body holds.
    const integration = await this.jira.jiraIntegration(integrationId);
    const { attributes } = await parseResourceBody(body, DISPATCH_BODY);
    return this.jira.dispatch(integration, attributes, query);
  }
}
