import { BoundPredicate } from './sql-conditions';

/**
 * Where row filter rules enter the findings and resources reads. The (global)
 * row filter rules module provides it; it is required, so an application
 * without the rules does not start rather than serving unfiltered reads. The predicate must be rendered for `tableAlias` with its
 * placeholders starting at `$<paramOffset + 1>`.
 */
export const ROW_FILTER_SOURCE = Symbol('ROW_FILTER_SOURCE');

/** Findings and resources reads filter their rows; scans and providers are filtered where a findings read names one (a scan's report). */
export type FilteredDataset = 'findings' | 'resources' | 'scans' | 'providers';

export interface RowFilterSource {
  predicate(dataset: FilteredDataset, tableAlias: string, paramOffset: number): Promise<BoundPredicate | null>;
}
