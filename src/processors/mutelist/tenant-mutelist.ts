import type { EntityManager } from 'typeorm';
import { rows } from '../../database/sql';
import { MutelistConfiguration, MutelistDocument } from './mutelist-document';

/** Provider types Prowler does not apply a Mutelist to: their scanners (Trivy) mute by their own rules. */
const WITHOUT_MUTELIST: ReadonlySet<string> = new Set(['iac', 'image']);

/** The current tenant's Mutelist (validated when it was written), or null when it has none or the provider type takes none. */
export async function tenantMutelist(manager: EntityManager, providerType?: string): Promise<MutelistDocument | null> {
  if (providerType !== undefined && WITHOUT_MUTELIST.has(providerType)) return null;
  const [processor] = await rows<{ configuration: MutelistConfiguration }>(
    manager,
    `SELECT configuration FROM processors WHERE processor_type = 'mutelist'`,
  );
  return processor?.configuration.Mutelist ?? null;
}

/** Whether findings of this provider type are ever muted by a Mutelist. */
export function takesMutelist(providerType: string): boolean {
  return !WITHOUT_MUTELIST.has(providerType);
}
