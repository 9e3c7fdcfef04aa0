import { Injectable } from '@nestjs/common';
import { ApiError } from '../common/errors/api-error';
import { limitOffset } from '../common/jsonapi/paging';
import { ParsedFilter, ParsedQuery } from '../common/jsonapi/query-spec';
import { affected, rows } from '../database/sql';
import { currentPrincipal, tenantManager } from '../database/tenant-context';
import { newId } from '../database/uuid';
import { addColumnFilter, containsPattern } from '../findings/query/column-filters';
import { SqlConditions } from '../findings/query/sql-conditions';
import { ApiKeyAuthenticator } from './api-key-authenticator';
import { generateApiKey } from './api-key-secret';
import { ApiKeyCreateAttributes, ApiKeyUpdateAttributes } from './api-key.dto';
import { API_KEY_COLUMNS_SQL, ApiKeyRow } from './api-key.resource';

const COLUMNS: Record<string, string> = {
  name: 'k.name', prefix: 'k.prefix', revoked: 'k.revoked', expires_at: 'k.expires_at', inserted_at: 'k.inserted_at',
};
const DATE_COLUMNS = new Set(['expires_at', 'inserted_at']);
const DAY_MS = 24 * 60 * 60 * 1000;

/** The tenant's API keys. The key itself is returned once, by create; only its salted hash is kept. */
@Injectable()
export class ApiKeysService {
  constructor(private readonly authenticator: ApiKeyAuthenticator) {}

  async list(query: ParsedQuery): Promise<{ rows: ApiKeyRow[]; count: number }> {
    const conditions = new SqlConditions();
    for (const filter of query.filters) addFilter(conditions, filter);
    const order = query.sort
      .map((s) => `${COLUMNS[s.field]} ${s.descending ? 'DESC' : 'ASC'}`)
      .concat('k.inserted_at DESC', 'k.id')
      .join(', ');
    const { limit, offset } = limitOffset(query.page);
    const manager = tenantManager();
    const found = await rows<ApiKeyRow>(
      manager,
      `SELECT ${API_KEY_COLUMNS_SQL} FROM api_keys k ${conditions.where()} ORDER BY ${order} ${limit === null ? '' : `LIMIT ${limit} OFFSET ${offset}`}`,
      conditions.params,
    );
    const [counted] = await rows<{ count: number }>(manager, `SELECT count(*)::int AS count FROM api_keys k ${conditions.where()}`, conditions.params);
    return { rows: found, count: counted.count };
  }

  async get(id: string): Promise<ApiKeyRow> {
    const [found] = await rows<ApiKeyRow>(tenantManager(), `SELECT ${API_KEY_COLUMNS_SQL} FROM api_keys k WHERE k.id = $1`, [id]);
    if (!found) throw ApiError.notFound('No API key with this id.');
    return found;
  }

  async create(attributes: ApiKeyCreateAttributes): Promise<ApiKeyRow> {
    const expiresAt = attributes.expires_at === undefined ? null : new Date(attributes.expires_at);
    if (expiresAt && expiresAt.getTime() <= Date.now()) {
      throw ApiError.badRequest('invalid', 'The expiry must be in the future.', { pointer: '/data/attributes/expires_at' });
    }
    await this.refuseDuplicateName(attributes.name);
    const key = generateApiKey();
    const id = newId();
    await rows(
      tenantManager(),
      `INSERT INTO api_keys (id, tenant_id, user_id, name, prefix, salt, key_hash, expires_at)
       VALUES ($1, NULLIF(current_setting('api.tenant_id', true), '')::uuid, $2, $3, $4, $5, $6, $7)`,
      [id, currentPrincipal().userId, attributes.name, key.prefix, key.salt, key.hash, expiresAt],
    );
    return { ...(await this.get(id)), api_key: key.key };
  }

  async rename(id: string, attributes: ApiKeyUpdateAttributes): Promise<ApiKeyRow> {
    await this.get(id);
    await this.refuseDuplicateName(attributes.name, id);
    await affected(tenantManager(), `UPDATE api_keys SET name = $2 WHERE id = $1`, [id, attributes.name]);
    return this.get(id);
  }

  /** Irreversible; a key already revoked is 400, as in Prowler. */
  async revoke(id: string): Promise<ApiKeyRow> {
    const key = await this.get(id);
    if (key.revoked) throw ApiError.badRequest('invalid', 'API key is already revoked.');
    await affected(tenantManager(), `UPDATE api_keys SET revoked = true WHERE id = $1`, [id]);
    this.authenticator.forget(key.prefix);
    return this.get(id);
  }

  private async refuseDuplicateName(name: string, exceptId?: string): Promise<void> {
    const [clash] = await rows(tenantManager(), `SELECT 1 FROM api_keys WHERE name = $1 AND id IS DISTINCT FROM $2`, [name, exceptId ?? null]);
    if (clash) throw ApiError.badRequest('invalid', 'An API key with this name already exists.', { pointer: '/data/attributes/name' });
  }
}

function addFilter(conditions: SqlConditions, filter: ParsedFilter): void {
  if (filter.field === 'search') {
    const pattern = conditions.param(containsPattern(String(filter.value)));
    conditions.add(`(k.name ILIKE ${pattern} OR k.prefix ILIKE ${pattern})`);
    return;
  }
  if (DATE_COLUMNS.has(filter.field) && filter.operator === 'eq') {
    // The contract's date filters: equality means the whole (UTC) day.
    const day = new Date(Math.floor((filter.value as Date).getTime() / DAY_MS) * DAY_MS);
    conditions.add(`${COLUMNS[filter.field]} >= ${conditions.param(day)} AND ${COLUMNS[filter.field]} < ${conditions.param(new Date(day.getTime() + DAY_MS))}`);
    return;
  }
  addColumnFilter(conditions, COLUMNS[filter.field], filter);
}
