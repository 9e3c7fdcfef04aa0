import { Controller, Get } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { Endpoint } from '../../common/http/endpoint.decorator';
import { JsonApiQuery } from '../../common/http/request-params';
import { renderDocument } from '../../common/jsonapi/document';
import { IncludeGraph } from '../../common/jsonapi/include-graph';
import { ParsedQuery } from '../../common/jsonapi/query-spec';
import { THREATSCORE_QUERY, threatScoreResource } from './threatscore.resource';
import { ThreatScoreService } from './threatscore.service';

@ApiTags('Overview')
@Controller('overviews')
export class ThreatScoreController {
  constructor(
    private readonly threatScore: ThreatScoreService,
    private readonly graph: IncludeGraph,
  ) {}

  @Get('threatscore')
  @Endpoint({ summary: "ThreatScore: each provider's latest snapshot (combined when several), or the one `snapshot_id` names", resource: threatScoreResource, list: true })
  async snapshots(@JsonApiQuery(THREATSCORE_QUERY) query: ParsedQuery) {
    const rows = await this.threatScore.snapshots(query);
    const included = await this.graph.included(threatScoreResource, rows, query.include);
    return renderDocument(threatScoreResource, rows, { fields: query.fields, included });
  }
}
