import { Controller, Get } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { ApiError } from '../common/errors/api-error';
import { Endpoint } from '../common/http/endpoint.decorator';
import { JsonApiQuery } from '../common/http/request-params';
import { renderDocument } from '../common/jsonapi/document';
import type { ParsedQuery } from '../common/jsonapi/query-spec';
import { EffectiveFilterService } from './effective-filter.service';
import { effectiveFilterResource, rlsRuleResource, rlsTableResource, roleChoiceResource } from './rls-rule.resource';
import { EFFECTIVE_QUERY, RELATED_ROLES_QUERY, RELATED_TABLES_QUERY } from './rule-lookups.query';
import { RuleLookupsService } from './rule-lookups.service';

/**
 * The literal paths under /rls-rules. Registered before RlsRulesController,
 * so that `related` and `effective` are never taken for a rule id.
 */
@ApiTags('Row filter rules')
@Controller('rls-rules')
export class RuleLookupsController {
  constructor(
    private readonly lookups: RuleLookupsService,
    private readonly effective: EffectiveFilterService,
  ) {}

  @Get('related/roles')
  @Endpoint({ summary: 'Roles a row filter rule can name (filter[name], filter[name__icontains])', permissions: ['manage_account'], resource: roleChoiceResource, list: true })
  async roles(@JsonApiQuery(RELATED_ROLES_QUERY) query: ParsedQuery) {
    const page = await this.lookups.roles(query);
    return renderDocument(roleChoiceResource, page.rows, { meta: page.meta });
  }

  @Get('related/tables')
  @Endpoint({ summary: 'Datasets a row filter rule can protect, with the columns its clause may use', permissions: ['manage_account'], resource: rlsTableResource, list: true })
  async tables(@JsonApiQuery(RELATED_TABLES_QUERY) query: ParsedQuery) {
    const page = this.lookups.tables(query);
    return renderDocument(rlsTableResource, page.rows, { meta: page.meta });
  }

  @Get('effective')
  @Endpoint({
    summary: "The combined row filter on a dataset (filter[table]) for you or, with manage_users, another user (filter[user])",
    permissions: ['manage_account'],
    resource: effectiveFilterResource,
  })
  async effectiveFilter(@JsonApiQuery(EFFECTIVE_QUERY) query: ParsedQuery) {
    const table = query.filters.find((filter) => filter.field === 'table')?.value as string | undefined;
    if (!table) throw ApiError.badRequest('required', 'filter[table] is required.', { parameter: 'filter[table]' });
    const user = query.filters.find((filter) => filter.field === 'user')?.value as string | undefined;
    const filter = await this.effective.effective(table, user);
    const included = query.include.includes('rules') ? [{ definition: rlsRuleResource, rows: await this.effective.rulesOf(filter) }] : [];
    return renderDocument(effectiveFilterResource, filter, { included });
  }
}
