import type { EntityManager } from 'typeorm';
import { tenantScope } from '../../database/tenant-context';
import { newId } from '../../database/uuid';
import { findingIdsOf } from '../storage/finding-ids';
import { copyFromStdin, CopyTextBuffer } from './copy-from-stdin';
import { IngestionRecord, IngestionResource } from './ingestion-record';
import { jsonbText } from './jsonb-text';

/**
 * Session temporary tables a batch is copied into before the `INSERT … SELECT`
 * statements move it under row-level security (COPY into them is allowed;
 * into the protected tables it is not). ON COMMIT DELETE ROWS empties them
 * with every transaction.
 */
const CREATE_STAGING_SQL = [
  // compliance_key indexes the batch's distinct compliance maps (StagePayload.compliances).
  `CREATE TEMP TABLE IF NOT EXISTS finding_stage (
     id uuid, uid text, check_id text, check_title text, status text, status_extended text, severity text, muted boolean,
     muted_reason text, service text, region text, resource_type text, resource_uid text, compliance_key int
   ) ON COMMIT DELETE ROWS`,
  // One row per distinct resource of the batch; `id` becomes the stored resource's id after the upsert,
  // and `stored_before` says whether the resource was stored before this batch.
  `CREATE TEMP TABLE IF NOT EXISTS resource_stage (
     id uuid, uid text, name text, region text, service text, type text, tags jsonb, partition text, details text, metadata text,
     stored_before boolean
   ) ON COMMIT DELETE ROWS`,
  // A finding's resources after its first (the first is its row's resource_uid).
  `CREATE TEMP TABLE IF NOT EXISTS link_stage (finding_id uuid, resource_uid text) ON COMMIT DELETE ROWS`,
];
const STAGING_TABLES = ['finding_stage', 'resource_stage', 'link_stage'];

const FINDING_COLUMNS = [
  'id', 'uid', 'check_id', 'check_title', 'status', 'status_extended', 'severity', 'muted', 'muted_reason',
  'service', 'region', 'resource_type', 'resource_uid', 'compliance_key',
] as const;
const RESOURCE_COLUMNS = ['id', 'uid', 'name', 'region', 'service', 'type', 'tags', 'partition', 'details', 'metadata'] as const;
const LINK_COLUMNS = ['finding_id', 'resource_uid'] as const;

/** Column widths of the target tables: longer values are cut rather than failing a whole scan. */
export const WIDTH = { uid: 300, checkId: 100, service: 100, region: 100, resourceType: 150 } as const;

/** Transactions (tenant scopes) that already staged a batch. */
const stagedTransactions = new WeakSet<object>();

/**
 * Empty staging tables for this batch. Creation is re-checked in every new
 * transaction: one that rolled back took its CREATE with it. Within one
 * transaction (a caller may write several batches in one) they are truncated, not
 * deleted from: deleted rows stay in the table until the transaction ends, so
 * every later batch would scan all the earlier ones again.
 */
export async function prepareStaging(manager: EntityManager): Promise<void> {
  const transaction = tenantScope();
  if (stagedTransactions.has(transaction)) {
    await manager.query(`TRUNCATE ${STAGING_TABLES.join(', ')}`);
    return;
  }
  for (const sql of CREATE_STAGING_SQL) await manager.query(sql);
  stagedTransactions.add(transaction);
}

/** A batch encoded as COPY text for the three staging tables, built before its transaction needs it. */
export interface StagePayload {
  findings: Buffer;
  resources: Buffer;
  /** Links to resources after a finding's first. */
  links: Buffer;
  /**
   * The batch's distinct compliance maps as one JSON array, which each
   * finding row indexes (compliance_key): the findings of a check share one
   * map, so PostgreSQL parses each once per batch instead of once per finding.
   */
  compliances: string;
  resourceCount: number;
  tagged: boolean;
}

/**
 * Encodes a scan's records for the staging tables as they come, computing
 * each finding's deterministic id; `cut` hands over the batch so far. It
 * touches no connection, so it can run while the previous batch's
 * statements do. Records are written out as bytes at once and only distinct
 * resources are kept until the batch is cut (a resource appears in many
 * findings, and the last record that names it describes it).
 */
export class StageEncoder {
  private readonly findings = new CopyTextBuffer();
  private readonly links = new CopyTextBuffer();
  private resources = new Map<string, IngestionResource>();
  /** Ids staged since the last cut: a uid the batch already holds keeps its first record, as the batch's plain insert needs distinct ids. */
  private staged = new Set<string>();
  /** Each distinct compliance map's JSON text and its index in the batch's array. */
  private complianceKeys = new Map<string, number>();
  /** By check, the last compliance map seen and its index: a check's findings share one map, which then needs no JSON text. */
  private checkCompliance = new Map<string, { compliance: Record<string, string[]>; frameworks: string[]; key: number }>();
  private readonly idOf: (uid: string) => string;
  private added = 0;

  constructor(startedMs: number, scanId: string) {
    this.idOf = findingIdsOf(startedMs, scanId);
  }

  /** Records added since the last cut. */
  get size(): number {
    return this.added;
  }

  add(record: IngestionRecord): void {
    const uid = record.uid.slice(0, WIDTH.uid);
    const id = this.idOf(uid);
    if (this.staged.has(id)) return;
    this.staged.add(id);
    this.findings.append([
      id,
      uid,
      record.checkId.slice(0, WIDTH.checkId),
      record.checkTitle,
      record.status,
      record.statusExtended,
      record.severity,
      record.muted,
      record.mutedReason ?? null,
      record.service.slice(0, WIDTH.service),
      record.region.slice(0, WIDTH.region),
      record.resourceType.slice(0, WIDTH.resourceType),
      record.resources[0]?.uid ?? '',
      this.complianceKeyOf(record.checkId, record.compliance ?? {}),
    ]);
    // The first resource's link comes from the finding's own row (resource_uid); only further ones are staged apart, each once.
    const resources = record.resources;
    for (let index = 0; index < resources.length; index++) {
      const resource = resources[index];
      this.resources.set(resource.uid, resource);
      if (index > 0 && resources.findIndex((r) => r.uid === resource.uid) === index) this.links.append([id, resource.uid]);
    }
    this.added++;
  }

  private complianceKeyOf(checkId: string, compliance: Record<string, string[]>): number {
    const known = this.checkCompliance.get(checkId);
    if (known && sameCompliance(known.compliance, known.frameworks, compliance)) return known.key;
    const text = jsonbText(compliance);
    let key = this.complianceKeys.get(text);
    if (key === undefined) {
      key = this.complianceKeys.size;
      this.complianceKeys.set(text, key);
    }
    this.checkCompliance.set(checkId, { compliance, frameworks: Object.keys(compliance), key });
    return key;
  }

  cut(): StagePayload {
    let tagged = false;
    const resources = new CopyTextBuffer();
    for (const resource of this.resources.values()) {
      tagged ||= Object.keys(resource.tags ?? {}).length > 0;
      resources.append([
        newId(),
        resource.uid,
        resource.name,
        resource.region.slice(0, WIDTH.region),
        resource.service.slice(0, WIDTH.service),
        resource.type.slice(0, WIDTH.resourceType),
        jsonbText(resource.tags ?? {}),
        resource.partition ?? null,
        resource.details ?? null,
        resource.metadata ?? null,
      ]);
    }
    const payload = {
      findings: this.findings.take(),
      resources: resources.take(),
      links: this.links.take(),
      compliances: `[${[...this.complianceKeys.keys()].join(',')}]`,
      resourceCount: this.resources.size,
      tagged,
    };
    this.resources = new Map();
    this.complianceKeys = new Map();
    this.checkCompliance = new Map();
    this.staged = new Set();
    this.added = 0;
    return payload;
  }
}

/**
 * Whether two compliance maps would give the same JSON text: the same
 * frameworks in the same order (`frameworks`, a's keys), each with the same
 * requirement ids. Cheaper than the text, and allocates nothing.
 */
function sameCompliance(a: Record<string, string[]>, frameworks: string[], b: Record<string, string[]>): boolean {
  if (a === b) return true;
  let count = 0;
  for (const framework in b) {
    if (frameworks[count++] !== framework) return false;
    const left = a[framework];
    const right = b[framework];
    if (left.length !== right.length) return false;
    for (let i = 0; i < left.length; i++) if (left[i] !== right[i]) return false;
  }
  return count === frameworks.length;
}

/** Copies an encoded batch into the (prepared, empty) staging tables. */
export async function copyStage(manager: EntityManager, payload: StagePayload): Promise<void> {
  await copyFromStdin(manager, 'finding_stage', FINDING_COLUMNS, payload.findings);
  if (payload.resourceCount > 0) {
    await copyFromStdin(manager, 'resource_stage', RESOURCE_COLUMNS, payload.resources);
    if (payload.links.length > 0) await copyFromStdin(manager, 'link_stage', LINK_COLUMNS, payload.links);
  }
}
