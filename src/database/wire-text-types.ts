import { types as pgTypes } from 'pg';

/** The type parsers a pg query config takes (`types`), as `pg` declares them. */
export interface TypeParsers {
  getTypeParser(oid: number, format?: string): (value: string) => unknown;
}

const TIMESTAMPTZ_OID = 1184;
const UUID_ARRAY_OID = 2951;
/** `2026-12-02 15:25:40.691234+00`: what PostgreSQL writes for a timestamptz when the session's zone is UTC. */
const UTC_TIMESTAMP = /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2})(?:\.(\d{1,6}))?\+00$/;

/**
 * A timestamptz as the ISO-8601 instant JSON renders it (`toISOString`:
 * UTC, milliseconds, truncated as a Date truncates). A UTC value is
 * rewritten as text; any other (another session time zone, years past
 * 9999) goes through the standard parser and a Date. Infinity gives null,
 * as JSON renders a Date that cannot be an instant.
 */
export function isoInstant(text: string): string | null {
  const utc = UTC_TIMESTAMP.exec(text);
  if (utc) return `${utc[1]}T${utc[2]}.${(utc[3] ?? '').padEnd(3, '0').slice(0, 3)}Z`;
  const parsed = pgTypes.getTypeParser(TIMESTAMPTZ_OID, 'text')(text) as Date | number;
  return parsed instanceof Date && !Number.isNaN(parsed.getTime()) ? parsed.toISOString() : null;
}

/** A uuid[]: its elements never need quoting, so a split reads it; NULL elements stay null. */
export function uuidList(text: string): (string | null)[] {
  if (text === '{}') return [];
  return text.slice(1, -1).split(',').map((item) => (item === 'NULL' ? null : item));
}

/**
 * Type parsers for the hottest reads (the findings pages): timestamps stay
 * the strings the answer carries, and uuid lists are split. Parsing each
 * timestamp into a Date only for JSON to format it back, and the generic
 * array parser, cost about a tenth of a 50-row page's CPU in the API.
 */
export const RENDERED_TEXT_TYPES: TypeParsers = {
  getTypeParser(oid, format) {
    if (format === undefined || format === 'text') {
      if (oid === TIMESTAMPTZ_OID) return isoInstant;
      if (oid === UUID_ARRAY_OID) return uuidList;
    }
    return pgTypes.getTypeParser(oid, format as 'text') as (value: string) => unknown;
  },
};
