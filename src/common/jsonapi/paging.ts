import { ParsedPage } from './query-spec';

/** LIMIT/OFFSET for a page-number page, or none when paging is disabled. */
export function limitOffset(page: ParsedPage): { limit: number | null; offset: number } {
  if (page.mode === 'number') return { limit: page.size, offset: (page.number - 1) * page.size };
  if (page.mode === 'cursor') return { limit: page.size, offset: 0 };
  return { limit: null, offset: 0 };
}

/** The meta block for a list: pagination figures in the contract's shape, or just the count. */
export function listMeta(page: ParsedPage, count: number): Record<string, unknown> {
  if (page.mode === 'number') {
    return { pagination: { page: page.number, pages: Math.max(1, Math.ceil(count / page.size)), count } };
  }
  return { pagination: { count } };
}
