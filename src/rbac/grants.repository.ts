import { tenantManager } from '../database/tenant-context';
import { rows } from '../database/sql';
import { Grant, MemberGrant } from './grant-policy';
import { Permission, PERMISSIONS } from './permissions';

type FlagColumns = { [P in Permission]: boolean | null };

interface GrantRow extends FlagColumns {
  /** null: every provider of the tenant. */
  provider_ids: string[] | null;
}

interface MemberGrantRow extends GrantRow {
  user_id: string;
  membership_role: 'owner' | 'member';
  roles_signature: string | null;
}

const FLAGS = (alias: string) => PERMISSIONS.map((p) => `${alias}.${p}`).join(', ');

/** The providers a role row `alias` lets its holder see: null with unlimited visibility, else those of its groups. */
const ROLE_PROVIDERS = (alias: string) => `CASE WHEN ${alias}.id IS NULL THEN '{}'::uuid[] WHEN ${alias}.unlimited_visibility THEN NULL ELSE ARRAY(
    SELECT DISTINCT pgm.provider_id FROM role_provider_groups rpg
      JOIN provider_group_memberships pgm ON pgm.provider_group_id = rpg.provider_group_id
     WHERE rpg.role_id = ${alias}.id) END`;

/**
 * Serialises changes to the tenant's roles and memberships until the
 * transaction ends: two owners stepping down at once must not each see the
 * other as the remaining full owner.
 */
export async function lockTenantGrants(): Promise<void> {
  await tenantManager().query(`SELECT pg_advisory_xact_lock(hashtextextended('tenant-grants:' || current_setting('api.tenant_id', true), 0))`);
}

/** What each role among `ids` grants whoever holds it first. */
export async function roleGrants(ids: readonly string[]): Promise<Map<string, Grant>> {
  if (ids.length === 0) return new Map();
  const found = await rows<GrantRow & { id: string }>(
    tenantManager(),
    `SELECT r.id, ${FLAGS('r')}, ${ROLE_PROVIDERS('r')} AS provider_ids FROM roles r WHERE r.id = ANY($1::uuid[])`,
    [[...ids]],
  );
  return new Map(found.map((row) => [row.id, toGrant(row)]));
}

/**
 * Every member of the tenant with what their first role grants (the role
 * permission checks use) and a signature of all their roles and those roles'
 * flags, which changes whenever their assignments or those roles change. A
 * tenant's members are few, and this runs only for changes to roles and
 * memberships, never on an ordinary request.
 */
export async function memberGrants(): Promise<Map<string, MemberGrant>> {
  const found = await rows<MemberGrantRow>(
    tenantManager(),
    `SELECT m.user_id, m.role AS membership_role, ${FLAGS('fr')}, ${ROLE_PROVIDERS('fr')} AS provider_ids,
            (SELECT string_agg(concat_ws(':', r.id, ${FLAGS('r')}), ',' ORDER BY ur.inserted_at, ur.id)
               FROM user_roles ur JOIN roles r ON r.id = ur.role_id WHERE ur.user_id = m.user_id) AS roles_signature
       FROM memberships m
       LEFT JOIN LATERAL (
         SELECT r.* FROM user_roles ur JOIN roles r ON r.id = ur.role_id
          WHERE ur.user_id = m.user_id
          ORDER BY ur.inserted_at, ur.id
          LIMIT 1
       ) fr ON true`,
  );
  return new Map(
    found.map((row) => [row.user_id, { owner: row.membership_role === 'owner', rolesSignature: row.roles_signature ?? '', grant: toGrant(row) }]),
  );
}

function toGrant(row: GrantRow): Grant {
  return {
    permissions: new Set(PERMISSIONS.filter((p) => row[p] === true)),
    providers: row.provider_ids === null ? null : new Set(row.provider_ids),
  };
}
