import { BoundPredicate } from './sql-conditions';

/**
 * Where row filter rules enter the findings and resources reads. The row
 * filter feature provides this under ROW_FILTER_SOURCE; until it does, reads
 * run without it. The predicate must be rendered for `tableAlias` with its
 * placeholders starting at `$<paramOffset + 1>`.
 */
export const ROW_FILTER_SOURCE = Symbol('ROW_FILTER_SOURCE');

export type FilteredDataset = 'findings' | 'resources';

export interface RowFilterSource {
  predicate(dataset: FilteredDataset, tableAlias: string, paramOffset: number): Promise<BoundPredicate | null>;
}
