import { hash } from 'node:crypto';

/**
 * Time bounds on UUIDv7 ids. A UUIDv7 starts with its 48-bit millisecond
 * timestamp, so "every id of a millisecond" is a contiguous id range: this is
 * what turns date filters into partition-pruning id ranges.
 */
const MAX_UUID_TIME_MS = 2 ** 48 - 1;

/** The smallest id of the millisecond `ms` (timestamp bits, every other bit zero). */
export function uuidAtMs(ms: number): string {
  const clamped = Math.min(Math.max(Math.floor(ms), 0), MAX_UUID_TIME_MS);
  const hex = clamped.toString(16).padStart(12, '0');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-0000-0000-000000000000`;
}

export function uuidAt(date: Date): string {
  return uuidAtMs(date.getTime());
}

/** The millisecond a UUIDv7 id was made in. */
export function uuidTimeMs(id: string): number {
  return parseInt(id.replace(/-/g, '').slice(0, 12), 16);
}

/** [lower, upper) id bounds of every id made in the millisecond `ms`. */
export function idRangeOfMs(ms: number): { from: string; to: string } {
  return { from: uuidAtMs(ms), to: uuidAtMs(ms + 1) };
}

/**
 * A finding's id: the scan's start as UUIDv7 time, the random bits from
 * md5(scan id, finding uid). The same scan and uid always give the same id,
 * so a retried batch conflicts instead of duplicating, and every finding of a
 * scan lands in one partition. The SQL function finding_uuid (migration
 * 1763800000006) computes the same value; a test holds them together.
 */
export function findingId(startedMs: number, scanId: string, uid: string): string {
  return findingIdsOf(startedMs, scanId)(uid);
}

/**
 * findingId for every finding of one scan: the time part is formatted once,
 * and each id costs one one-shot md5 (crypto.hash, without a Hash object per
 * finding), which an import pays for every record it encodes.
 */
export function findingIdsOf(startedMs: number, scanId: string): (uid: string) => string {
  const time = Math.floor(startedMs).toString(16).padStart(12, '0');
  const prefix = `${time.slice(0, 8)}-${time.slice(8, 12)}-7`;
  const hashed = `${scanId}:`;
  return (uid) => {
    const md5 = hash('md5', hashed + uid, 'hex');
    return `${prefix}${md5.slice(0, 3)}-${VARIANT[parseInt(md5[3], 16) & 3]}${md5.slice(4, 7)}-${md5.slice(7, 19)}`;
  };
}

const VARIANT = '89ab';
