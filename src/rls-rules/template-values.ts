import type { Principal } from '../database/tenant-context';
import type { TemplateName } from './clause/compiled-clause';

/**
 * The value each clause template stands for, for one principal. Always bound
 * as a query parameter. Only identities the user cannot choose: their id,
 * the tenant's id, and their email once verified (a changed address counts
 * only after its mailed token is confirmed). An unverified email binds NULL,
 * which matches nothing: a rule that cannot be evaluated for a user hides
 * rows rather than shows them.
 */
export function templateValues(principal: Principal): (name: TemplateName) => string | null {
  return (name) => {
    switch (name) {
      case 'current_user_id':
        return principal.userId;
      case 'current_tenant_id':
        return principal.tenantId;
      case 'current_user_email':
        return principal.verifiedEmail ?? null;
    }
  };
}
