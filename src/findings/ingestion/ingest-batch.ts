import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { EntityManager } from 'typeorm';
import { tenantScope } from '../../database/tenant-context';
import type { CheckFacts } from '../checks/check-catalog';
import { affected, inserted, rows } from '../../database/sql';
import { insertPlainlyUnlessStored } from '../../database/unique-violation-fallback';
import { BatchResult, IngestionRecord, IngestionScan } from './ingestion-record';
import { jsonbText } from './jsonb-text';
import {
  INSERT_FINDINGS_SKIPPING_STORED_SQL,
  INSERT_NEW_FINDINGS_SQL,
  LINK_NEW_FINDINGS_SQL,
  LINK_RESOURCES_SKIPPING_STORED_SQL,
  LINK_TAGS_SQL,
  RECORD_UNPUBLISHED_SCAN_SQL,
  RESOLVE_RESOURCE_IDS_SQL,
  UNLINK_STALE_TAGS_SQL,
  UPSERT_CHECK_FACTS_SQL,
  UPSERT_RESOURCES_SQL,
  UPSERT_TAGS_SQL,
} from './ingestion-sql';
import { copyStage, prepareStaging, StageEncoder, StagePayload, WIDTH } from './staging-tables';

/** What the deployment's check definitions say of a check (CheckCatalog.factsOf), if it knows it. */
export type CheckFactsOf = (checkId: string) => CheckFacts | undefined;

/** A batch ready to be written: its scan's start as ids carry it, and its records encoded for the staging tables (null for none). */
export interface EncodedBatch {
  startedAt: Date;
  payload: StagePayload | null;
  /** The categories the batch's records gave their checks, by check id (checks whose records said nothing are absent). */
  checkCategories: Record<string, readonly string[]>;
}

/**
 * Encodes a scan's records one at a time into batches ready to be written:
 * `add` each record, `cut` the batch so far. It needs no transaction, so the
 * next batch can be encoded while the current one is written (see pipelined).
 */
export class ScanBatchEncoder {
  // Ids carry milliseconds: the start is cut to them so ids and inserted_at agree.
  private readonly startedAt: Date;
  private readonly stage: StageEncoder;
  private checkCategories: Record<string, readonly string[]> = {};

  constructor(scan: IngestionScan) {
    this.startedAt = new Date(Math.floor(scan.scanStartedAt.getTime()));
    this.stage = new StageEncoder(this.startedAt.getTime(), scan.scanId);
  }

  /** Records added since the last cut. */
  get size(): number {
    return this.stage.size;
  }

  add(record: IngestionRecord): void {
    if (record.categories) this.checkCategories[record.checkId.slice(0, WIDTH.checkId)] = record.categories;
    this.stage.add(record);
  }

  cut(): EncodedBatch {
    const batch = { startedAt: this.startedAt, payload: this.stage.size > 0 ? this.stage.cut() : null, checkCategories: this.checkCategories };
    this.checkCategories = {};
    return batch;
  }
}

/** Records encoded between two yields to the event loop: short enough that a database reply waits at most a few milliseconds. */
const ENCODE_SLICE = 50;

/**
 * Encodes a batch of a scan's records on this thread, yielding to the event
 * loop every ENCODE_SLICE records so that the statements of a batch written
 * meanwhile are not held up.
 */
export async function encodeBatch(scan: IngestionScan, records: readonly IngestionRecord[]): Promise<EncodedBatch> {
  const encoder = new ScanBatchEncoder(scan);
  for (let index = 0; index < records.length; index++) {
    if (index > 0 && index % ENCODE_SLICE === 0) await yieldToEventLoop();
    encoder.add(records[index]);
  }
  return encoder.cut();
}

/** Encodes and writes one batch (see writeBatch). */
export async function ingestBatch(manager: EntityManager, scan: IngestionScan, records: readonly IngestionRecord[], factsOf?: CheckFactsOf): Promise<BatchResult> {
  return writeBatch(manager, scan, await encodeBatch(scan, records), factsOf);
}

/**
 * Writes one encoded batch of a scan inside the current tenant transaction,
 * out of readers' sight until the scan is published (scan-publication.ts):
 * resources upserted by (provider, uid), their tags and links, findings with
 * deterministic ids (so a retried batch inserts nothing twice), delta and
 * first_seen_at from finding_latest as it was before the scan, and muted
 * from the tenant's enabled mute rules. The batch's checks get their
 * categories (the records', else the check definition's) and resource group
 * (the check definition's) in check_metadata.
 *
 * The month partition of the scan's start must exist: FindingsIngestionService
 * .prepareScan ensures it before the transaction opens, since the DDL would
 * otherwise wait on this very transaction.
 */
export async function writeBatch(manager: EntityManager, scan: IngestionScan, batch: EncodedBatch, factsOf?: CheckFactsOf): Promise<BatchResult> {
  if (tenantScope().tenantId !== scan.tenantId) throw new Error('writeBatch: the scan belongs to another tenant than the open transaction');
  const { tenantId, scanId, providerId } = scan;
  const { startedAt, payload, checkCategories } = batch;

  // Nothing of the batch shows before publication, whose commit waits for the WAL of every batch before it: a batch need not wait for its own flush.
  // The staging tables have no statistics: the planner, costing them by their pages, joined them by sorting both
  // sides on text keys (a fifth of the links statement); hashed, the join costs a third of that.
  await manager.query(`SET LOCAL synchronous_commit = off; SET LOCAL enable_mergejoin = off`);
  const [{ has_latest: hasLatest }] = await rows<{ has_latest: boolean }>(manager, RECORD_UNPUBLISHED_SCAN_SQL, [tenantId, scanId, providerId, startedAt]);
  if (payload === null) return { findingsInserted: 0, resourcesUpserted: 0 };
  const checks = Object.entries(checkCategories);
  if (checks.length > 0) {
    const facts = Object.fromEntries(
      checks.map(([checkId, categories]) => {
        const known = factsOf?.(checkId);
        return [checkId, { categories: categories.length > 0 ? categories : (known?.categories ?? []), resource_group: known?.resourceGroup ?? null }];
      }),
    );
    await affected(manager, UPSERT_CHECK_FACTS_SQL, [tenantId, jsonbText(facts)]);
  }

  await prepareStaging(manager);
  await copyStage(manager, payload);

  let resourcesUpserted = 0;
  if (payload.resourceCount) {
    resourcesUpserted = await affected(manager, UPSERT_RESOURCES_SQL, [tenantId, providerId, scanId]);
    await affected(manager, RESOLVE_RESOURCE_IDS_SQL, [tenantId, providerId]);
  }
  const inserted = await insertFindings(manager, [tenantId, scanId, providerId, startedAt, hasLatest, payload.compliances], payload.resourceCount > 0);
  if (payload.resourceCount) {
    if (payload.tagged) {
      await affected(manager, UPSERT_TAGS_SQL, [tenantId]);
      await affected(manager, LINK_TAGS_SQL, [tenantId]);
    }
    // Also for an untagged batch: a resource whose tags were all removed loses its links.
    await affected(manager, UNLINK_STALE_TAGS_SQL, [tenantId]);
  }
  return { findingsInserted: inserted, resourcesUpserted };
}

/**
 * Inserts the staged findings and their resource links; the number inserted.
 * The plain statements fail only when an id is already stored (a batch run
 * again, a uid an earlier batch held, or the same batch committed meanwhile
 * by another attempt); the statements that skip stored rows then run instead.
 */
function insertFindings(manager: EntityManager, params: unknown[], linked: boolean): Promise<number> {
  const [tenantId] = params;
  const insert = (findingsSql: string, linksSql: string) => async () => {
    const findings = await inserted(manager, findingsSql, params);
    if (linked) await affected(manager, linksSql, [tenantId]);
    return findings;
  };
  return insertPlainlyUnlessStored(
    manager,
    insert(INSERT_NEW_FINDINGS_SQL, LINK_NEW_FINDINGS_SQL),
    insert(INSERT_FINDINGS_SKIPPING_STORED_SQL, LINK_RESOURCES_SKIPPING_STORED_SQL),
  );
}
