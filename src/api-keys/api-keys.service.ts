import { Injectable } from '@nestjs/common';
import { ApiError } from '../common/errors/api-error';
import { ParsedQuery } from '../common/jsonapi/query-spec';
import { affected, rows } from '../database/sql';
import { currentPrincipal, tenantManager } from '../database/tenant-context';
import { newId } from '../database/uuid';
import { containsPattern, filterConditions, ListColumns, orderBy, pagedList, SqlParams } from '../rbac/list-query-sql';
import { ApiKeyAuthenticator } from './api-key-authenticator';
import { generateApiKey } from './api-key-secret';
import { ApiKeyCreateAttributes, ApiKeyUpdateAttributes } from './api-key.dto';
import { API_KEY_COLUMNS_SQL, API_KEY_LIST, ApiKeyRow } from './api-key.resource';

const DEFAULT_KEY_LIFETIME_MS = 365 * 24 * 60 * 60 * 1000;
const SORTS = { name: 'k.name', prefix: 'k.prefix', revoked: 'k.revoked', expires_at: 'k.expires_at', inserted_at: 'k.inserted_at' };
const LIST_COLUMNS: ListColumns = {
  filters: {
    ...SORTS,
    search: (filter, params) => {
      const pattern = params.add(containsPattern(String(filter.value)));
      return `(k.name ILIKE ${pattern} OR k.prefix ILIKE ${pattern})`;
    },
  },
  sorts: SORTS,
  tieBreaker: 'k.id',
};

/** The tenant's API keys. The key itself is returned once, by create; only its salted hash is kept. */
@Injectable()
export class ApiKeysService {
  constructor(private readonly authenticator: ApiKeyAuthenticator) {}

  list(query: ParsedQuery): Promise<{ rows: ApiKeyRow[]; count: number }> {
    const params = new SqlParams();
    return pagedList<ApiKeyRow>({
      from: 'api_keys k',
      alias: 'k',
      columns: API_KEY_COLUMNS_SQL,
      where: filterConditions(query, API_KEY_LIST, LIST_COLUMNS, params),
      // Prowler's order after the requested one: live keys first, newest first.
      order: orderBy([...query.sort, { field: 'revoked', descending: false }, { field: 'inserted_at', descending: true }], LIST_COLUMNS),
      page: query.page,
      params,
    });
  }

  async get(id: string): Promise<ApiKeyRow> {
    const [found] = await rows<ApiKeyRow>(tenantManager(), `SELECT ${API_KEY_COLUMNS_SQL} FROM api_keys k WHERE k.id = $1`, [id]);
    if (!found) throw ApiError.notFound('No API key with this id.');
    return found;
  }

  async create(attributes: ApiKeyCreateAttributes): Promise<ApiKeyRow> {
    // Prowler's default: a key without an expiry lasts one year.
    const expiresAt = attributes.expires_at === undefined ? new Date(Date.now() + DEFAULT_KEY_LIFETIME_MS) : new Date(attributes.expires_at);
    if (expiresAt.getTime() <= Date.now()) {
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
