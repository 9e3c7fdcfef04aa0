/**
 * Tables that hold a provider's data, emptied in batches before the provider
 * row itself goes. Children before parents. `belongs` selects the provider's
 * rows with $1 = the provider id. Add each new provider-owned table here
 * (findings, resources, summaries as their features arrive).
 */
export interface ProviderOwnedTable {
  table: string;
  belongs: string;
}

export const PROVIDER_OWNED_TABLES: readonly ProviderOwnedTable[] = [
  { table: 'scans', belongs: 'provider_id = $1' },
];
