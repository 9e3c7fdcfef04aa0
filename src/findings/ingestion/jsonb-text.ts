import { LONE_SURROGATE } from '../../common/http/storable-strings';

/**
 * JSON.stringify escapes control characters and lone surrogates as \uXXXX;
 * jsonb refuses two of those escapes, NUL and half a surrogate pair, and with
 * them the whole statement. An escaped backslash before "u0000" matches too,
 * which only costs the slow path.
 */
const REFUSED_ESCAPE = /\\u(?:0000|d[89a-f])/i;
const LONE_SURROGATES = new RegExp(LONE_SURROGATE.source, 'g');

/**
 * `value` as JSON text jsonb takes: strings and member names of a scanner's
 * file lose their NUL characters, and half a surrogate pair becomes U+FFFD,
 * as it does in the text columns (COPY's text is UTF-8). Nearly every value
 * needs nothing of it, and is stringified once.
 */
export function jsonbText(value: unknown): string {
  const text = JSON.stringify(value);
  return REFUSED_ESCAPE.test(text) ? JSON.stringify(value, storableMembers) : text;
}

function storable(text: string): string {
  return text.replace(/\u0000/g, '').replace(LONE_SURROGATES, '\ufffd');
}

/** A JSON.stringify replacer: strings made storable, and objects rebuilt with storable member names (their values pass here in turn). */
function storableMembers(_name: string, value: unknown): unknown {
  if (typeof value === 'string') return storable(value);
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    return Object.fromEntries(Object.entries(value).map(([name, member]) => [storable(name), member]));
  }
  return value;
}
