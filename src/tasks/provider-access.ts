import { ApiError } from '../common/errors/api-error';
import { rows } from '../database/sql';
import { currentPrincipal, tenantManager } from '../database/tenant-context';

/** A provider the caller's role cannot see answers 404, exactly like one that does not exist. */
function assertProviderVisible(providerId: string): void {
  const visible = currentPrincipal().visibleProviderIds;
  if (visible !== null && !visible.has(providerId)) throw ApiError.notFound();
}

/** Visible and not deleted, else 404. */
export async function assertLiveVisibleProvider(providerId: string): Promise<void> {
  assertProviderVisible(providerId);
  const [provider] = await rows(tenantManager(), `SELECT 1 FROM providers WHERE id = $1 AND deleted_at IS NULL`, [providerId]);
  if (!provider) throw ApiError.notFound();
}
