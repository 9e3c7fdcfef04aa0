import { Provider } from '@nestjs/common';
import { RowFilterService } from '../../rls-rules/row-filter.service';
import { ROW_FILTER_SOURCE, RowFilterSource } from './row-filter-source';

/**
 * Row filter rules into the findings feature's reads. RowFilterService comes
 * from the (global) row filter rules module; without it the application does
 * not start, rather than serving reads that ignore the rules.
 */
export const rowFilterSourceProvider: Provider = {
  provide: ROW_FILTER_SOURCE,
  inject: [RowFilterService],
  useFactory: (rules: RowFilterService): RowFilterSource => ({
    predicate: (dataset, tableAlias, paramOffset) => rules.predicateFor(dataset, tableAlias, paramOffset),
  }),
};
