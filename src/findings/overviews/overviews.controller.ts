import { Controller, Get } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { Endpoint } from '../../common/http/endpoint.decorator';
import { JsonApiQuery } from '../../common/http/request-params';
import { renderDocument } from '../../common/jsonapi/document';
import { ParsedQuery } from '../../common/jsonapi/query-spec';
import {
  FINDINGS_OVERVIEW,
  findingsOverviewResource,
  PROVIDERS_COUNT_OVERVIEW,
  PROVIDERS_OVERVIEW,
  providerCountResource,
  providerOverviewResource,
  REGIONS_OVERVIEW,
  regionOverviewResource,
  SERVICES_OVERVIEW,
  serviceOverviewResource,
  SEVERITY_OVERVIEW,
  severityOverviewResource,
  sortOverview,
} from './overview.resources';
import { OverviewsService } from './overviews.service';

@ApiTags('Overview')
@Controller('overviews')
export class OverviewsController {
  constructor(private readonly overviews: OverviewsService) {}

  @Get('providers')
  @Endpoint({ summary: 'Findings and resources of the latest scans, by provider type', resource: providerOverviewResource, list: true })
  async providers(@JsonApiQuery(PROVIDERS_OVERVIEW) query: ParsedQuery) {
    return renderDocument(providerOverviewResource, await this.overviews.providers(query.filters), { fields: query.fields });
  }

  @Get('providers/count')
  @Endpoint({ summary: 'Providers by type, scanned or not', resource: providerCountResource, list: true })
  async providerCounts(@JsonApiQuery(PROVIDERS_COUNT_OVERVIEW) query: ParsedQuery) {
    return renderDocument(providerCountResource, await this.overviews.providerCounts(query.filters), { fields: query.fields });
  }

  @Get('findings')
  @Endpoint({ summary: 'Findings of the latest scans by status and delta', resource: findingsOverviewResource })
  async findings(@JsonApiQuery(FINDINGS_OVERVIEW) query: ParsedQuery) {
    return renderDocument(findingsOverviewResource, await this.overviews.findings(query.filters), { fields: query.fields });
  }

  @Get('findings_severity')
  @Endpoint({ summary: 'Findings of the latest scans by severity', resource: severityOverviewResource })
  async severities(@JsonApiQuery(SEVERITY_OVERVIEW) query: ParsedQuery) {
    return renderDocument(severityOverviewResource, await this.overviews.severities(query.filters), { fields: query.fields });
  }

  @Get('services')
  @Endpoint({ summary: 'Findings of the latest scans by service', resource: serviceOverviewResource, list: true })
  async services(@JsonApiQuery(SERVICES_OVERVIEW) query: ParsedQuery) {
    const rows = sortOverview(await this.overviews.services(query.filters), query.sort, serviceOverviewResource);
    return renderDocument(serviceOverviewResource, rows, { fields: query.fields });
  }

  @Get('regions')
  @Endpoint({ summary: 'Findings of the latest scans by provider type and region', resource: regionOverviewResource, list: true })
  async regions(@JsonApiQuery(REGIONS_OVERVIEW) query: ParsedQuery) {
    const rows = sortOverview(await this.overviews.regions(query.filters), query.sort, regionOverviewResource);
    return renderDocument(regionOverviewResource, rows, { fields: query.fields });
  }
}
