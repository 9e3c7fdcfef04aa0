import { ApiError } from '../errors/api-error';
import { excerpt } from '../errors/excerpt';

/**
 * Every string a request carries ends up in PostgreSQL text, a validator or a
 * log line. Some cannot: NUL (PostgreSQL refuses it), a lone UTF-16 surrogate
 * (not text at all; validators that URI-encode throw on it), or a string far
 * longer than any attribute of this API holds. They are refused here, once,
 * as 400 naming where they were, before any handler runs.
 */
export const MAX_STRING_LENGTH = 65536;
/** Half a surrogate pair: not text, and no UTF-8 encoding of it exists. */
export const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

function problem(value: string): string | undefined {
  if (value.length > MAX_STRING_LENGTH) return `is longer than ${MAX_STRING_LENGTH} characters`;
  if (value.includes('\u0000')) return 'contains a NUL character';
  if (LONE_SURROGATE.test(value)) return 'contains an unpaired UTF-16 surrogate';
  return undefined;
}

const escapePointer = (key: string) => key.replace(/~/g, '~0').replace(/\//g, '~1');

/** Walks a parsed JSON body (iteratively: depth is limited elsewhere, not here) and throws on the first bad string or key. */
export function assertStorableBody(body: unknown): void {
  const stack: Array<{ value: unknown; pointer: string }> = [{ value: body, pointer: '' }];
  while (stack.length > 0) {
    const { value, pointer } = stack.pop()!;
    if (typeof value === 'string') {
      const found = problem(value);
      if (found) throw ApiError.badRequest('invalid', `The value ${found}.`, { pointer: excerpt(pointer, 120) });
    } else if (Array.isArray(value)) {
      value.forEach((item, index) => stack.push({ value: item, pointer: `${pointer}/${index}` }));
    } else if (typeof value === 'object' && value !== null) {
      for (const [key, item] of Object.entries(value)) {
        const found = problem(key);
        if (found) throw ApiError.badRequest('invalid', `A member name ${found}.`, { pointer: excerpt(pointer, 120) });
        stack.push({ value: item, pointer: `${pointer}/${escapePointer(key)}` });
      }
    }
  }
}

/** The same rules for query parameters, by name and value. */
export function assertStorableQuery(query: unknown): void {
  if (typeof query !== 'object' || query === null) return;
  for (const [name, raw] of Object.entries(query)) {
    for (const value of [name, ...(Array.isArray(raw) ? raw : [raw])]) {
      const found = typeof value === 'string' ? problem(value) : undefined;
      if (found) throw ApiError.badRequest('invalid', `A query parameter ${found}.`, { parameter: excerpt(name) });
    }
  }
}
