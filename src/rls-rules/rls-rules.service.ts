import { Injectable } from '@nestjs/common';
import { ApiError } from '../common/errors/api-error';
import { limitOffset, listMeta } from '../common/jsonapi/paging';
import type { ParsedQuery } from '../common/jsonapi/query-spec';
import { newId } from '../database/uuid';
import type { RlsRuleAttributes } from './rls-rule.dto';
import type { RlsRuleRow } from './rls-rule.resource';
import type { RuleInput } from './rls-rule-body';
import { ruleListOrder, ruleListWhere } from './rls-rule-list.query';
import { checkedRule } from './rule-validation';
import * as repository from './rls-rules.repository';

const NAME_CONSTRAINT = 'rls_rules_tenant_name_unique';

@Injectable()
export class RlsRulesService {
  async list(query: ParsedQuery): Promise<{ rules: RlsRuleRow[]; meta: Record<string, unknown> }> {
    const where = ruleListWhere(query.filters);
    const { limit, offset } = limitOffset(query.page);
    const rules = await repository.listRules(where, ruleListOrder(query.sort), limit, offset);
    const count = await repository.countRules(where);
    return { rules, meta: listMeta(query.page, count) };
  }

  async get(id: string): Promise<RlsRuleRow> {
    return (await repository.findRule(id)) ?? notFound();
  }

  async create(input: RuleInput): Promise<RlsRuleRow> {
    const id = newId();
    const { record, roleIds, tables } = await checkedRule(id, fullAttributes(input.attributes), input.roleIds ?? [], input.tables ?? []);
    await saving(() => repository.insertRule(record));
    await repository.insertRuleLinks(record.tenantId, id, roleIds, tables);
    return this.get(id);
  }

  /** PUT: every attribute and relationship as sent; what is left out is cleared. */
  async replace(id: string, input: RuleInput): Promise<RlsRuleRow> {
    await this.lock(id);
    return this.save(id, fullAttributes(input.attributes), input.roleIds ?? [], input.tables ?? []);
  }

  /** PATCH: what is sent changes; the rest stays. The result is checked as a whole. */
  async update(id: string, input: RuleInput): Promise<RlsRuleRow> {
    const current = await this.lock(id);
    const attributes: RlsRuleAttributes = {
      name: input.attributes.name ?? current.name,
      description: input.attributes.description !== undefined ? input.attributes.description : current.description,
      filter_type: input.attributes.filter_type ?? current.filter_type,
      group_key: input.attributes.group_key !== undefined ? input.attributes.group_key : current.group_key,
      clause: input.attributes.clause ?? current.clause,
    };
    return this.save(id, attributes, input.roleIds ?? current.role_ids, input.tables ?? current.tables);
  }

  async delete(id: string): Promise<void> {
    if (!(await repository.deleteRule(id))) notFound();
  }

  /** All or nothing: one id that is not a rule of the tenant and nothing is deleted. */
  async deleteMany(ids: readonly string[]): Promise<void> {
    const unique = [...new Set(ids)];
    const existing = await repository.lockExistingRules(unique);
    const missing = unique.filter((id) => !existing.has(id));
    if (missing.length > 0) {
      throw ApiError.notFound(`No rule with id ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', ...' : ''}; nothing was deleted.`);
    }
    await repository.deleteRules(unique);
  }

  private async lock(id: string): Promise<RlsRuleRow> {
    return (await repository.findRule(id, true)) ?? notFound();
  }

  private async save(id: string, attributes: RlsRuleAttributes, roleIds: string[], tables: string[]): Promise<RlsRuleRow> {
    const checked = await checkedRule(id, attributes, roleIds, tables);
    await saving(() => repository.updateRule(checked.record));
    await repository.deleteRuleLinks(id);
    await repository.insertRuleLinks(checked.record.tenantId, id, checked.roleIds, checked.tables);
    return this.get(id);
  }
}

function notFound(): never {
  throw ApiError.notFound('No rule with this id.');
}

/** POST and PUT: optional attributes left out are null. */
function fullAttributes(attributes: Partial<RlsRuleAttributes>): RlsRuleAttributes {
  return {
    ...(attributes as RlsRuleAttributes),
    description: attributes.description ?? null,
    group_key: attributes.group_key ?? null,
  };
}

/** The name is unique in the tenant: a clash is a 409 naming the attribute, whichever request got there first. */
async function saving(write: () => Promise<void>): Promise<void> {
  try {
    await write();
  } catch (error) {
    const driverError = (error as { driverError?: { code?: string; constraint?: string } }).driverError;
    if (driverError?.code === '23505' && driverError.constraint === NAME_CONSTRAINT) {
      throw ApiError.conflict('unique', 'A rule with this name already exists in the tenant.', { pointer: '/data/attributes/name' });
    }
    throw error;
  }
}
