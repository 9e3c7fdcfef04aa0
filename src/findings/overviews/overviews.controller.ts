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
import {
  ATTACK_SURFACES,
  attackSurfaceResource,
  CATEGORIES,
  categoryResource,
  COMPLIANCE_WATCHLIST,
  RESOURCE_GROUPS,
  resourceGroupResource,
  SEVERITY_TIMESERIES,
  severityDayResource,
  watchlistResource,
} from './overview-widgets.resources';
import { OverviewWidgetsService } from './overview-widgets.service';

@ApiTags('Overview')
@Controller('overviews')
export class OverviewsController {
  constructor(
    private readonly overviews: OverviewsService,
    private readonly widgets: OverviewWidgetsService,
  ) {}

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

  @Get('attack-surfaces')
  @Endpoint({ summary: 'Findings of the latest scans by attack surface (internet exposure, secrets, privilege escalation, EC2 IMDSv1)', resource: attackSurfaceResource, list: true })
  async attackSurfaces(@JsonApiQuery(ATTACK_SURFACES) query: ParsedQuery) {
    const rows = sortOverview(await this.widgets.attackSurfaces(query.filters), query.sort, attackSurfaceResource);
    return renderDocument(attackSurfaceResource, rows, { fields: query.fields });
  }

  @Get('categories')
  @Endpoint({ summary: 'Findings of the latest scans by check category, with failed findings per severity', resource: categoryResource, list: true })
  async categories(@JsonApiQuery(CATEGORIES) query: ParsedQuery) {
    const rows = sortOverview(await this.widgets.categories(query.filters), query.sort, categoryResource);
    return renderDocument(categoryResource, rows, { fields: query.fields });
  }

  @Get('resource-groups')
  @Endpoint({ summary: 'Findings of the latest scans by resource group, with failed findings per severity and resources seen', resource: resourceGroupResource, list: true })
  async resourceGroups(@JsonApiQuery(RESOURCE_GROUPS) query: ParsedQuery) {
    const rows = sortOverview(await this.widgets.resourceGroups(query.filters), query.sort, resourceGroupResource);
    return renderDocument(resourceGroupResource, rows, { fields: query.fields });
  }

  @Get('findings_severity/timeseries')
  @Endpoint({ summary: 'Failed findings by severity per day from filter[date_from] (required) to filter[date_to], days without scans filled forward', resource: severityDayResource, list: true })
  async severityTimeseries(@JsonApiQuery(SEVERITY_TIMESERIES) query: ParsedQuery) {
    const rows = sortOverview(await this.widgets.severityTimeseries(query.filters), query.sort, severityDayResource);
    return renderDocument(severityDayResource, rows, { fields: query.fields });
  }

  @Get('compliance-watchlist')
  @Endpoint({ summary: 'Requirements by status per compliance framework over the latest scan of each provider', resource: watchlistResource, list: true })
  async complianceWatchlist(@JsonApiQuery(COMPLIANCE_WATCHLIST) query: ParsedQuery) {
    const rows = sortOverview(await this.widgets.complianceWatchlist(query), query.sort, watchlistResource);
    return renderDocument(watchlistResource, rows, { fields: query.fields });
  }
}
