import { tenantManager } from '../database/tenant-context';
import { preparedRows } from '../database/sql';
import { UserRow } from './user.resource';
import { CURRENT_TENANT } from '../database/rls-policy-sql';

/** Users as seen from the current tenant: RLS shows only users with a membership here. */
const USER_COLUMNS = `u.id, u.name, u.email, u.company_name, u.date_joined,
  ARRAY(SELECT m.id FROM memberships m WHERE m.user_id = u.id ORDER BY m.date_joined) AS membership_ids,
  (SELECT m.id FROM memberships m WHERE m.user_id = u.id AND m.tenant_id = ${CURRENT_TENANT}) AS active_membership_id,
  ARRAY(SELECT ur.role_id FROM user_roles ur WHERE ur.user_id = u.id ORDER BY ur.inserted_at, ur.id) AS role_ids`;

const USER_BY_ID = `SELECT ${USER_COLUMNS} FROM users u WHERE u.id = $1`;

export async function findUser(id: string): Promise<UserRow | undefined> {
  const found = await preparedRows<UserRow>(tenantManager(), USER_BY_ID, [id]);
  return found[0];
}

/** The current address and password hash of a user of the current tenant, for re-authentication. */
export async function findCredentials(id: string): Promise<{ email: string; password: string } | undefined> {
  const found = await preparedRows<{ email: string; password: string }>(tenantManager(), `SELECT email, password FROM users WHERE id = $1`, [id]);
  return found[0];
}

export async function updateUser(id: string, changes: Partial<{ name: string; company_name: string; password: string }>): Promise<void> {
  const columns = Object.keys(changes) as Array<keyof typeof changes>;
  if (columns.length === 0) return;
  const assignments = columns.map((column, index) => `${column} = $${index + 2}`).join(', ');
  await tenantManager().query(`UPDATE users SET ${assignments}, updated_at = now() WHERE id = $1`, [id, ...columns.map((c) => changes[c])]);
}

export { USER_COLUMNS };
