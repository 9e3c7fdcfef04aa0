import { ParsedQuery, QuerySpec } from '../common/jsonapi/query-spec';
import { tenantManager } from '../database/tenant-context';
import { affected, rows } from '../database/sql';
import { containsPattern, filterConditions, ListColumns, orderBy, pagedList, SqlParams } from '../rbac/list-query-sql';
import { visibleProviderCondition } from '../rbac/provider-visibility';
import { SecretType } from './secret-schemas';
import { ProviderSecretRow } from './provider-secret.resource';

/** A secret is visible exactly when its provider is: live, and in the caller's groups for a limited role. */
const SECRET_COLUMNS = 's.id, s.provider_id, s.name, s.secret_type, s.inserted_at, s.updated_at';

const LIST_COLUMNS: ListColumns = {
  filters: {
    name: 's.name',
    provider: 's.provider_id',
    inserted_at: 's.inserted_at',
    updated_at: 's.updated_at',
    search: (filter, params) => `s.name ILIKE ${params.add(containsPattern(String(filter.value)))}`,
  },
  sorts: { name: 's.name', inserted_at: 's.inserted_at', updated_at: 's.updated_at' },
  tieBreaker: 's.id',
};

function ofVisibleProviders(params: SqlParams): string[] {
  const live = 'EXISTS (SELECT 1 FROM providers p WHERE p.id = s.provider_id AND p.deleted_at IS NULL)';
  const visible = visibleProviderCondition('s.provider_id', params);
  return visible ? [live, visible] : [live];
}

export async function listSecrets(query: ParsedQuery, spec: QuerySpec): Promise<{ rows: ProviderSecretRow[]; count: number }> {
  const params = new SqlParams();
  const where = [...ofVisibleProviders(params), ...filterConditions(query, spec, LIST_COLUMNS, params)];
  return pagedList<ProviderSecretRow>({
    from: 'provider_secrets s',
    alias: 's',
    columns: SECRET_COLUMNS,
    where,
    order: orderBy(query.sort, LIST_COLUMNS),
    page: query.page,
    params,
  });
}

export async function findVisibleSecret(id: string): Promise<ProviderSecretRow | undefined> {
  const params = new SqlParams();
  const where = [`s.id = ${params.add(id)}`, ...ofVisibleProviders(params)];
  const found = await rows<ProviderSecretRow>(tenantManager(), `SELECT ${SECRET_COLUMNS} FROM provider_secrets s WHERE ${where.join(' AND ')}`, params.values);
  return found[0];
}

export interface StoredCiphertext {
  id: string;
  ciphertext: string;
}

/** The envelope of a provider's secret, for the code that decrypts it; never for rendering. */
export async function findCiphertextByProvider(providerId: string): Promise<StoredCiphertext | undefined> {
  const found = await rows<StoredCiphertext>(tenantManager(), `SELECT id, ciphertext FROM provider_secrets WHERE provider_id = $1`, [providerId]);
  return found[0];
}

export async function findCiphertext(id: string): Promise<string> {
  const found = await rows<{ ciphertext: string }>(tenantManager(), `SELECT ciphertext FROM provider_secrets WHERE id = $1`, [id]);
  return found[0].ciphertext;
}

export interface NewSecret {
  id: string;
  tenantId: string;
  providerId: string;
  name: string | null;
  secretType: SecretType;
  ciphertext: string;
  keyId: string;
}

/** Inserts unless the provider already has a secret (one per provider); the row, or undefined on that conflict. */
export async function insertSecret(secret: NewSecret): Promise<ProviderSecretRow | undefined> {
  const inserted = await rows<ProviderSecretRow>(
    tenantManager(),
    `INSERT INTO provider_secrets (id, tenant_id, provider_id, name, secret_type, ciphertext, key_id)
     VALUES ($1, $2, $3, $4, $5, $6, $7)
     ON CONFLICT (provider_id) DO NOTHING
     RETURNING id, provider_id, name, secret_type, inserted_at, updated_at`,
    [secret.id, secret.tenantId, secret.providerId, secret.name, secret.secretType, secret.ciphertext, secret.keyId],
  );
  return inserted[0];
}

export interface SecretChanges {
  name?: string | null;
  secretType?: SecretType;
  envelope?: { ciphertext: string; keyId: string };
}

export async function updateSecret(id: string, changes: SecretChanges): Promise<void> {
  const params = new SqlParams();
  const assignments: string[] = [];
  if (changes.name !== undefined) assignments.push(`name = ${params.add(changes.name)}`);
  if (changes.secretType !== undefined) assignments.push(`secret_type = ${params.add(changes.secretType)}`);
  if (changes.envelope) {
    assignments.push(`ciphertext = ${params.add(changes.envelope.ciphertext)}`, `key_id = ${params.add(changes.envelope.keyId)}`);
  }
  if (assignments.length === 0) return;
  await tenantManager().query(`UPDATE provider_secrets SET ${assignments.join(', ')}, updated_at = now() WHERE id = ${params.add(id)}`, params.values);
}

export async function deleteSecret(id: string): Promise<number> {
  return affected(tenantManager(), `DELETE FROM provider_secrets WHERE id = $1`, [id]);
}
