import { listOf, text } from '../../common/jsonapi/attribute-schema';
import { Controller, Get, Param } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { Endpoint } from '../../common/http/endpoint.decorator';
import { JsonApiQuery, UuidPipe } from '../../common/http/request-params';
import { renderDocument } from '../../common/jsonapi/document';
import { ParsedQuery } from '../../common/jsonapi/query-spec';
import { ResourceDefinition } from '../../common/jsonapi/resource-definition';
import { FindingScope } from '../finding-selection';
import { nextPageLink } from '../query/next-link';
import { RequestUrl } from '../query/request-url.decorator';
import { RESOURCE_DETAIL, RESOURCE_LATEST_LIST, RESOURCE_LIST, RESOURCE_METADATA, RESOURCE_METADATA_LATEST } from './resource-list-spec';
import { ResourceRow, resourceResource } from './resource.resource';
import { IncludeGraph } from '../../common/jsonapi/include-graph';
import { ResourceMetadata, ResourcePage, ResourcesService } from './resources.service';
import { includeReadEvents, lookbackDays, RESOURCE_EVENTS_QUERY, resourceEventResource } from './events/resource-events';
import { ResourceEventsService } from './events/resource-events.service';

const resourceMetadataResource: ResourceDefinition<ResourceMetadata> = {
  schema: { services: listOf(text), regions: listOf(text), types: listOf(text), groups: listOf(text) },
  type: 'resources-metadata',
  id: () => 'resources-metadata',
  attributes: (m) => ({ services: m.services, regions: m.regions, types: m.types, groups: [] }),
};

@ApiTags('Resource')
@Controller('resources')
export class ResourcesController {
  constructor(
    private readonly resources: ResourcesService,
    private readonly graph: IncludeGraph,
    private readonly events: ResourceEventsService,
  ) {}

  @Get()
  @Endpoint({ summary: 'List resources (page numbers, or a cursor with page[cursor])', resource: resourceResource, list: true })
  async list(@JsonApiQuery(RESOURCE_LIST) query: ParsedQuery, @RequestUrl() url: string) {
    return this.renderPage(await this.resources.list(query, 'all'), query, url, 'all');
  }

  @Get('latest')
  @Endpoint({ summary: 'List the resources the latest completed scan of each provider saw', resource: resourceResource, list: true })
  async latest(@JsonApiQuery(RESOURCE_LATEST_LIST) query: ParsedQuery, @RequestUrl() url: string) {
    return this.renderPage(await this.resources.list(query, 'latest'), query, url, 'latest');
  }

  @Get('metadata')
  @Endpoint({ summary: 'Distinct services, regions and types of the resources a filter selects', resource: resourceMetadataResource })
  async metadata(@JsonApiQuery(RESOURCE_METADATA) query: ParsedQuery) {
    return renderDocument(resourceMetadataResource, await this.resources.metadata(query.filters, 'all'), { fields: query.fields });
  }

  @Get('metadata/latest')
  @Endpoint({ summary: 'The same metadata for the resources the latest completed scan of each provider saw', resource: resourceMetadataResource })
  async metadataLatest(@JsonApiQuery(RESOURCE_METADATA_LATEST) query: ParsedQuery) {
    return renderDocument(resourceMetadataResource, await this.resources.metadata(query.filters, 'latest'), { fields: query.fields });
  }

  @Get(':id')
  @Endpoint({ summary: 'One resource', resource: resourceResource })
  async get(@Param('id', UuidPipe) id: string, @JsonApiQuery(RESOURCE_DETAIL) query: ParsedQuery) {
    const [resource] = await this.withRelated([await this.resources.get(id)], query, 'all');
    return renderDocument(resourceResource, resource, { fields: query.fields, included: await this.graph.included(resourceResource, [resource], query.include) });
  }

  @Get(':id/events')
  @Endpoint({ summary: "Who changed the resource and when (AWS only; needs RESOURCE_EVENTS_URL, otherwise 503)", resource: resourceEventResource, list: true, errors: [502] })
  async resourceEvents(
    @Param('id', UuidPipe) id: string,
    @JsonApiQuery(RESOURCE_EVENTS_QUERY) query: ParsedQuery,
  ) {
    const options = {
      lookbackDays: lookbackDays(query.extra.lookback_days),
      limit: query.page.mode === 'all' ? 50 : query.page.size,
      includeReadEvents: includeReadEvents(query.extra.include_read_events),
    };
    const found = await this.events.events(id, options);
    return renderDocument(resourceEventResource, found, { fields: query.fields });
  }

  private async renderPage(page: ResourcePage, query: ParsedQuery, url: string, scope: FindingScope) {
    const shown = await this.withRelated(page.rows, query, scope);
    return renderDocument(resourceResource, shown, {
      fields: query.fields,
      included: await this.graph.included(resourceResource, shown, query.include),
      meta: page.meta,
      links: page.nextCursor === undefined ? undefined : { next: nextPageLink(url, page.nextCursor) },
    });
  }

  /** The `findings` relationship costs a query: read only when it is rendered or included. */
  private withRelated(rows: ResourceRow[], query: ParsedQuery, scope: FindingScope): Promise<ResourceRow[]> {
    const wanted = query.fields.resources;
    if (query.include.includes('findings') || !wanted || wanted.includes('findings')) return this.resources.withFindingIds(rows, scope);
    return Promise.resolve(rows);
  }
}
