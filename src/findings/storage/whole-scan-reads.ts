import type { EntityManager } from 'typeorm';
import { withLocalSettings } from '../../database/local-settings';

/**
 * What the planner may not do while a statement reads every finding of a
 * scan that has just been written, and why.
 *
 * The month partition's statistics predate the scan (the overview job takes
 * them after publication), so the planner expects a row or none. It then
 * walks the primary key over the scan's id range, in id order, which is the
 * order of the uids' hashes: each row a visit to a random heap page, and past
 * what shared_buffers holds a read per row. With a join it probes the other
 * table once per row, just as randomly. Without these plans the scan's pages
 * are read once each, in order (bitmap heap scans), and joined by hashing.
 * For 1,000,000 findings: the running totals 6.85 s against 1.58 s, the
 * scan's distinct resources 8.1-12.8 s against 1.8-2.0 s, its compliance
 * summaries 13.7-14.6 s against 7.8-7.9 s.
 */
const WHOLE_SCAN_SETTINGS: Record<string, string> = {
  enable_indexscan: 'off',
  // Joins by hashing: a nested loop probes once per row, a merge join sorts both sides.
  enable_nestloop: 'off',
  enable_mergejoin: 'off',
  // Grouping by hashing their handful of groups rather than sorting every row to group them.
  enable_sort: 'off',
  // A plan the settings push away from its cheapest estimate carries their penalty in its cost, which would set off JIT compilation.
  jit: 'off',
};

/** Runs `read` under WHOLE_SCAN_SETTINGS (withLocalSettings). Only for statements that read a whole scan: anything else wants its index. */
export function readingWholeScan<T>(manager: EntityManager, read: () => Promise<T>): Promise<T> {
  return withLocalSettings(manager, WHOLE_SCAN_SETTINGS, read);
}
