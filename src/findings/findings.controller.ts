import { Controller, Get, Param } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { Endpoint } from '../common/http/endpoint.decorator';
import { JsonApiQuery, UuidPipe } from '../common/http/request-params';
import { renderDocument } from '../common/jsonapi/document';
import { ParsedQuery } from '../common/jsonapi/query-spec';
import { FINDING_DETAIL, FINDING_LATEST_LIST, FINDING_LIST, FINDING_METADATA, FINDING_METADATA_LATEST, FINDING_SERVICES_REGIONS } from './finding-list-spec';
import { findingMetadataResource, findingServicesRegionsResource } from './finding-metadata.resource';
import { findingResource } from './finding.resource';
import { FindingPage, FindingsService } from './findings.service';
import { nextPageLink } from './query/next-link';
import { RequestUrl } from './query/request-url.decorator';

@ApiTags('Finding')
@Controller('findings')
export class FindingsController {
  constructor(private readonly findings: FindingsService) {}

  @Get()
  @Endpoint({ summary: 'List findings of every scan (page numbers, or a cursor with page[cursor])', resource: findingResource, list: true })
  async list(@JsonApiQuery(FINDING_LIST) query: ParsedQuery, @RequestUrl() url: string) {
    return renderPage(await this.findings.list(query, 'all'), query, url);
  }

  @Get('latest')
  @Endpoint({ summary: 'List findings of the latest completed scan of each provider', resource: findingResource, list: true })
  async latest(@JsonApiQuery(FINDING_LATEST_LIST) query: ParsedQuery, @RequestUrl() url: string) {
    return renderPage(await this.findings.list(query, 'latest'), query, url);
  }

  @Get('metadata')
  @Endpoint({ summary: 'Distinct services, regions, resource types, severities and checks of the findings a filter selects', resource: findingMetadataResource })
  async metadata(@JsonApiQuery(FINDING_METADATA) query: ParsedQuery) {
    return renderDocument(findingMetadataResource, await this.findings.metadata(query.filters, 'all'), { fields: query.fields });
  }

  @Get('metadata/latest')
  @Endpoint({ summary: 'The same metadata for the latest completed scan of each provider', resource: findingMetadataResource })
  async metadataLatest(@JsonApiQuery(FINDING_METADATA_LATEST) query: ParsedQuery) {
    return renderDocument(findingMetadataResource, await this.findings.metadata(query.filters, 'latest'), { fields: query.fields });
  }

  @Get('findings_services_regions')
  @Endpoint({ summary: 'The services and regions of the findings a filter selects (Prowler’s deprecated picker)', resource: findingServicesRegionsResource })
  async servicesRegions(@JsonApiQuery(FINDING_SERVICES_REGIONS) query: ParsedQuery) {
    return renderDocument(findingServicesRegionsResource, await this.findings.metadata(query.filters, 'all'), { fields: query.fields });
  }

  @Get(':id')
  @Endpoint({ summary: 'One finding', resource: findingResource })
  async get(@Param('id', UuidPipe) id: string, @JsonApiQuery(FINDING_DETAIL) query: ParsedQuery) {
    const found = await this.findings.get(id, query.include);
    return renderDocument(findingResource, found.rows[0], { fields: query.fields, included: found.included });
  }
}

function renderPage(page: FindingPage, query: ParsedQuery, url: string) {
  return renderDocument(findingResource, page.rows, {
    fields: query.fields,
    included: page.included,
    meta: page.meta,
    links: page.nextCursor === undefined ? undefined : { next: nextPageLink(url, page.nextCursor) },
  });
}
