import { Controller, Delete, Get, Param, Patch, Post } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { Endpoint } from '../common/http/endpoint.decorator';
import { JsonApiQuery, UuidPipe } from '../common/http/request-params';
import { renderDocument } from '../common/jsonapi/document';
import { IncludeGraph } from '../common/jsonapi/include-graph';
import { listMeta } from '../common/jsonapi/paging';
import { ParsedQuery } from '../common/jsonapi/query-spec';
import { ParsedResourceBody } from '../common/jsonapi/request-body';
import { ResourceBody } from '../common/jsonapi/resource-body.decorator';
import { relatedIds } from '../rbac/relationship-ids';
import { TaskAccepted } from '../tasks/task-accepted.decorator';
import { CreateIntegrationAttributes, UpdateIntegrationAttributes } from './integration.dto';
import { INTEGRATION_DETAIL, INTEGRATION_LIST } from './integration-query-specs';
import { integrationResource } from './integration.resource';
import { IntegrationsService } from './integrations.service';

const INTEGRATION_RELATIONSHIPS = { providers: { type: 'providers', many: true } };

/**
 * Integrations need manage_integrations for every operation, reads included
 * (as in Prowler). What a caller sees still follows their provider
 * visibility: see IntegrationsService.
 */
@ApiTags('Integration')
@Controller('integrations')
export class IntegrationsController {
  constructor(
    private readonly integrations: IntegrationsService,
    private readonly graph: IncludeGraph,
  ) {}

  @Get()
  @Endpoint({ summary: 'List the integrations you can see', permissions: ['manage_integrations'], resource: integrationResource, list: true })
  async list(@JsonApiQuery(INTEGRATION_LIST) query: ParsedQuery) {
    const { rows, count } = await this.integrations.list(query, INTEGRATION_LIST);
    return renderDocument(integrationResource, rows, {
      fields: query.fields,
      meta: listMeta(query.page, count),
      included: await this.graph.included(integrationResource, rows, query.include),
    });
  }

  @Post()
  @Endpoint({
    summary: 'Create an integration (its credentials are stored encrypted and never returned)',
    permissions: ['manage_integrations'],
    status: 201,
    resource: integrationResource,
  })
  async create(
    @ResourceBody({
      type: 'integrations',
      attributes: CreateIntegrationAttributes,
      relationships: INTEGRATION_RELATIONSHIPS,
    })
    { attributes, relationships }: ParsedResourceBody<CreateIntegrationAttributes>,
  ) {
    return renderDocument(integrationResource, await this.integrations.create(attributes, relatedIds(relationships, 'providers')));
  }

  @Get(':id')
  @Endpoint({ summary: 'An integration you can see', permissions: ['manage_integrations'], resource: integrationResource })
  async get(@Param('id', UuidPipe) id: string, @JsonApiQuery(INTEGRATION_DETAIL) query: ParsedQuery) {
    const integration = await this.integrations.get(id);
    return renderDocument(integrationResource, integration, {
      fields: query.fields,
      included: await this.graph.included(integrationResource, [integration], query.include),
    });
  }

  @Patch(':id')
  @Endpoint({
    summary: 'Change an integration: enabled, configuration, credentials or providers',
    permissions: ['manage_integrations'],
    resource: integrationResource,
  })
  async update(
    @Param('id', UuidPipe) id: string,
    @ResourceBody({
      type: 'integrations',
      attributes: UpdateIntegrationAttributes,
      idFromParam: 'id',
      relationships: INTEGRATION_RELATIONSHIPS,
    })
    { attributes, relationships }: ParsedResourceBody<UpdateIntegrationAttributes>,
  ) {
    return renderDocument(integrationResource, await this.integrations.update(id, attributes, relatedIds(relationships, 'providers')));
  }

  @Delete(':id')
  @Endpoint({ summary: 'Delete an integration', permissions: ['manage_integrations'], status: 204 })
  async remove(@Param('id', UuidPipe) id: string): Promise<void> {
    await this.integrations.remove(id);
  }

  @Post(':id/connection')
  @TaskAccepted({ summary: "Check an integration's connection in a task", permissions: ['manage_integrations'] })
  checkConnection(@Param('id', UuidPipe) id: string) {
    return this.integrations.checkConnection(id);
  }
}
