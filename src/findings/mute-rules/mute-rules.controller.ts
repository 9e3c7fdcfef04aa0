import { Controller, Delete, Get, Param, Patch, Post } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { Endpoint } from '../../common/http/endpoint.decorator';
import { JsonApiQuery, UuidPipe } from '../../common/http/request-params';
import { renderDocument } from '../../common/jsonapi/document';
import { IncludeGraph } from '../../common/jsonapi/include-graph';
import { listMeta } from '../../common/jsonapi/paging';
import { ParsedQuery } from '../../common/jsonapi/query-spec';
import { ParsedResourceBody } from '../../common/jsonapi/request-body';
import { ResourceBody } from '../../common/jsonapi/resource-body.decorator';
import { MuteRuleCreateAttributes, MuteRuleUpdateAttributes } from './mute-rule.dto';
import { MUTE_RULE_DETAIL, MUTE_RULE_LIST, muteRuleResource } from './mute-rule.resource';
import { MuteRulesService } from './mute-rules.service';

@ApiTags('Mute rules')
@Controller('mute-rules')
export class MuteRulesController {
  constructor(
    private readonly muteRules: MuteRulesService,
    private readonly graph: IncludeGraph,
  ) {}

  @Get()
  @Endpoint({ summary: 'List mute rules', permissions: ['manage_scans'], resource: muteRuleResource, list: true })
  async list(@JsonApiQuery(MUTE_RULE_LIST) query: ParsedQuery) {
    const { rows, count } = await this.muteRules.list(query);
    const included = await this.graph.included(muteRuleResource, rows, query.include);
    return renderDocument(muteRuleResource, rows, { fields: query.fields, meta: listMeta(query.page, count), included });
  }

  @Post()
  @Endpoint({ summary: 'Create a mute rule: mutes the named findings now and their uids in later scans', status: 201, permissions: ['manage_scans'], resource: muteRuleResource })
  async create(@ResourceBody({ type: 'mute-rules', attributes: MuteRuleCreateAttributes }) { attributes }: ParsedResourceBody<MuteRuleCreateAttributes>) {
    return renderDocument(muteRuleResource, await this.muteRules.create(attributes));
  }

  @Get(':id')
  @Endpoint({ summary: 'One mute rule', permissions: ['manage_scans'], resource: muteRuleResource })
  async get(@Param('id', UuidPipe) id: string, @JsonApiQuery(MUTE_RULE_DETAIL) query: ParsedQuery) {
    const rule = await this.muteRules.get(id);
    return renderDocument(muteRuleResource, rule, { fields: query.fields, included: await this.graph.included(muteRuleResource, [rule], query.include) });
  }

  @Patch(':id')
  @Endpoint({ summary: 'Rename, re-word, enable or disable a mute rule', permissions: ['manage_scans'], resource: muteRuleResource })
  async update(@Param('id', UuidPipe) id: string, @ResourceBody({ type: 'mute-rules', attributes: MuteRuleUpdateAttributes, idFromParam: 'id' }) { attributes }: ParsedResourceBody<MuteRuleUpdateAttributes>) {
    return renderDocument(muteRuleResource, await this.muteRules.update(id, attributes));
  }

  @Delete(':id')
  @Endpoint({ summary: 'Delete a mute rule (findings it muted stay muted)', status: 204, permissions: ['manage_scans'] })
  async remove(@Param('id', UuidPipe) id: string): Promise<void> {
    await this.muteRules.remove(id);
  }
}
