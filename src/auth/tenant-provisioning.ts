import type { EntityManager } from 'typeorm';
import { newId } from '../database/uuid';
import { PERMISSIONS } from '../rbac/permissions';

export const ADMIN_ROLE_NAME = 'admin';

/**
 * A new tenant with its first user as owner, holding an `admin` role with every
 * permission. Runs as the owner role because no tenant context exists yet.
 */
export async function createTenantWithOwner(admin: EntityManager, userId: string, tenantName: string): Promise<string> {
  const tenantId = newId();
  const roleId = newId();
  await admin.query(`INSERT INTO tenants (id, name) VALUES ($1, $2)`, [tenantId, tenantName]);
  await admin.query(`INSERT INTO memberships (id, tenant_id, user_id, role) VALUES ($1, $2, $3, 'owner')`, [newId(), tenantId, userId]);
  await admin.query(
    `INSERT INTO roles (id, tenant_id, name, ${PERMISSIONS.join(', ')}) VALUES ($1, $2, $3, ${PERMISSIONS.map(() => 'true').join(', ')})`,
    [roleId, tenantId, ADMIN_ROLE_NAME],
  );
  await admin.query(`INSERT INTO user_roles (id, tenant_id, user_id, role_id) VALUES ($1, $2, $3, $4)`, [newId(), tenantId, userId, roleId]);
  return tenantId;
}
