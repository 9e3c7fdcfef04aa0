import { Controller, Get, Param } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { ApiError } from '../../common/errors/api-error';
import { Endpoint } from '../../common/http/endpoint.decorator';
import { JsonApiQuery } from '../../common/http/request-params';
import { renderDocument } from '../../common/jsonapi/document';
import { ParsedQuery } from '../../common/jsonapi/query-spec';
import {
  FINDING_GROUP_LATEST_LIST,
  FINDING_GROUP_LATEST_RESOURCES,
  FINDING_GROUP_LIST,
  FINDING_GROUP_RESOURCES,
  findingGroupResource,
  findingGroupResourceResource,
} from './finding-group.resources';
import { FindingGroupsService } from './finding-groups.service';

/** A check id as Prowler's route takes it (no slash or dot) and as findings store it (at most 100 characters). */
function checkIdParam(value: string, parameter: string): string {
  if (!/^[^/.]{1,100}$/.test(value)) throw ApiError.badRequest('invalid', `'${parameter}' is not a check id.`, { parameter });
  return value;
}

@ApiTags('Finding Groups')
@Controller('finding-groups')
export class FindingGroupsController {
  constructor(private readonly groups: FindingGroupsService) {}

  @Get()
  @Endpoint({ summary: 'Findings grouped by check, for the latest scan of each provider within the date filter (one is required, 7 days at most)', resource: findingGroupResource, list: true })
  async list(@JsonApiQuery(FINDING_GROUP_LIST) query: ParsedQuery) {
    const page = await this.groups.list(query, false);
    return renderDocument(findingGroupResource, page.rows, { fields: query.fields, meta: page.meta });
  }

  @Get('latest')
  @Endpoint({ summary: 'Findings grouped by check, for the latest completed scan of each provider', resource: findingGroupResource, list: true })
  async latest(@JsonApiQuery(FINDING_GROUP_LATEST_LIST) query: ParsedQuery) {
    const page = await this.groups.list(query, true);
    return renderDocument(findingGroupResource, page.rows, { fields: query.fields, meta: page.meta });
  }

  @Get('latest/:check_id/resources')
  @Endpoint({ summary: "The resources of one check's findings in the latest completed scan of each provider", resource: findingGroupResourceResource, list: true })
  async latestResources(@Param('check_id') checkId: string, @JsonApiQuery(FINDING_GROUP_LATEST_RESOURCES) query: ParsedQuery) {
    const page = await this.groups.resources(checkIdParam(checkId, 'check_id'), query, true);
    return renderDocument(findingGroupResourceResource, page.rows, { fields: query.fields, meta: page.meta });
  }

  @Get(':id/resources')
  @Endpoint({ summary: "The resources of one check's findings (the group id is the check id) within the date filter", resource: findingGroupResourceResource, list: true })
  async resources(@Param('id') checkId: string, @JsonApiQuery(FINDING_GROUP_RESOURCES) query: ParsedQuery) {
    const page = await this.groups.resources(checkIdParam(checkId, 'id'), query, false);
    return renderDocument(findingGroupResourceResource, page.rows, { fields: query.fields, meta: page.meta });
  }
}
