/**
 * The datasets a row filter rule can protect, and the columns its clause may
 * reference. A clause is checked against this catalog, never against the live
 * schema, so a column added to a table stays unfilterable until it is listed
 * here on purpose (tenant_id, for instance, is deliberately absent).
 */
export type ColumnType = 'text' | 'uuid' | 'timestamptz' | 'boolean' | 'integer';

const DATASET_COLUMNS = {
  providers: {
    id: 'uuid',
    provider: 'text',
    uid: 'text',
    alias: 'text',
    connected: 'boolean',
    inserted_at: 'timestamptz',
    updated_at: 'timestamptz',
  },
  scans: {
    id: 'uuid',
    provider_id: 'uuid',
    name: 'text',
    trigger: 'text',
    state: 'text',
    unique_resource_count: 'integer',
    progress: 'integer',
    started_at: 'timestamptz',
    completed_at: 'timestamptz',
    inserted_at: 'timestamptz',
  },
  findings: {
    id: 'uuid',
    scan_id: 'uuid',
    provider_id: 'uuid',
    uid: 'text',
    check_id: 'text',
    status: 'text',
    severity: 'text',
    delta: 'text',
    muted: 'boolean',
    service: 'text',
    region: 'text',
    resource_type: 'text',
    resource_uid: 'text',
    inserted_at: 'timestamptz',
  },
  resources: {
    id: 'uuid',
    provider_id: 'uuid',
    uid: 'text',
    name: 'text',
    region: 'text',
    service: 'text',
    type: 'text',
    inserted_at: 'timestamptz',
    updated_at: 'timestamptz',
  },
} as const satisfies Record<string, Record<string, ColumnType>>;

export type DatasetName = keyof typeof DATASET_COLUMNS;

export interface Dataset {
  readonly name: DatasetName;
  // A Map rather than a plain object so that names such as "constructor" or
  // "__proto__" can never be mistaken for columns.
  readonly columns: ReadonlyMap<string, ColumnType>;
}

export const DATASETS: ReadonlyMap<string, Dataset> = new Map(
  (Object.keys(DATASET_COLUMNS) as DatasetName[]).map((name) => [
    name,
    { name, columns: new Map(Object.entries(DATASET_COLUMNS[name])) },
  ]),
);

export function getDataset(name: string): Dataset | undefined {
  return DATASETS.get(name);
}

export function listDatasets(): Dataset[] {
  return [...DATASETS.values()];
}
