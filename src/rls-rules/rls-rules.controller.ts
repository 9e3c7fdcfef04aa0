import { Body, Controller, Delete, Get, Param, Patch, Post, Put } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { ApiError } from '../common/errors/api-error';
import { Endpoint } from '../common/http/endpoint.decorator';
import { JsonApiQuery, UuidPipe } from '../common/http/request-params';
import { renderDocument } from '../common/jsonapi/document';
import type { ParsedQuery } from '../common/jsonapi/query-spec';
import { rlsRuleResource } from './rls-rule.resource';
import { parseCreateBody, parseReplaceBody, parseUpdateBody, RULE_BODY } from './rls-rule-body';
import { BULK_DELETE_QUERY, RULE_DETAIL_QUERY, RULE_LIST_QUERY } from './rls-rule-list.query';
import { RlsRulesService } from './rls-rules.service';

const MANAGE_ACCOUNT = ['manage_account'] as const;

@ApiTags('Row filter rules')
@Controller('rls-rules')
export class RlsRulesController {
  constructor(private readonly rules: RlsRulesService) {}

  @Get()
  @Endpoint({ summary: 'List row filter rules', permissions: [...MANAGE_ACCOUNT], resource: rlsRuleResource, list: true })
  async list(@JsonApiQuery(RULE_LIST_QUERY) query: ParsedQuery) {
    const { rules, meta } = await this.rules.list(query);
    return renderDocument(rlsRuleResource, rules, { fields: query.fields, meta });
  }

  @Post()
  @Endpoint({ summary: 'Create a row filter rule', permissions: [...MANAGE_ACCOUNT], status: 201, resource: rlsRuleResource, body: RULE_BODY })
  async create(@Body() body: unknown) {
    return renderDocument(rlsRuleResource, await this.rules.create(await parseCreateBody(body)));
  }

  @Delete()
  @Endpoint({ summary: 'Delete the rules in filter[id__in], all or none', permissions: [...MANAGE_ACCOUNT], status: 204 })
  async deleteMany(@JsonApiQuery(BULK_DELETE_QUERY) query: ParsedQuery) {
    const ids = query.filters.find((filter) => filter.field === 'id')?.value as string[] | undefined;
    if (!ids) throw ApiError.badRequest('required', 'Bulk delete needs filter[id__in].', { parameter: 'filter[id__in]' });
    await this.rules.deleteMany(ids);
  }

  @Get(':id')
  @Endpoint({ summary: 'A row filter rule', permissions: [...MANAGE_ACCOUNT], resource: rlsRuleResource })
  async get(@Param('id', UuidPipe) id: string, @JsonApiQuery(RULE_DETAIL_QUERY) query: ParsedQuery) {
    return renderDocument(rlsRuleResource, await this.rules.get(id), { fields: query.fields });
  }

  @Patch(':id')
  @Endpoint({ summary: 'Change some attributes or relationships of a row filter rule', permissions: [...MANAGE_ACCOUNT], resource: rlsRuleResource, body: RULE_BODY })
  async update(@Param('id', UuidPipe) id: string, @Body() body: unknown) {
    return renderDocument(rlsRuleResource, await this.rules.update(id, await parseUpdateBody(body, id)));
  }

  @Put(':id')
  @Endpoint({ summary: 'Replace a row filter rule', permissions: [...MANAGE_ACCOUNT], resource: rlsRuleResource, body: RULE_BODY })
  async replace(@Param('id', UuidPipe) id: string, @Body() body: unknown) {
    return renderDocument(rlsRuleResource, await this.rules.replace(id, await parseReplaceBody(body, id)));
  }

  @Delete(':id')
  @Endpoint({ summary: 'Delete a row filter rule', permissions: [...MANAGE_ACCOUNT], status: 204 })
  async delete(@Param('id', UuidPipe) id: string) {
    await this.rules.delete(id);
  }
}
