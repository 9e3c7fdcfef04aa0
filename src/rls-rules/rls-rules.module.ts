import { Global, Module } from '@nestjs/common';
import { ROW_FILTER_SOURCE, RowFilterSource } from '../findings/query/row-filter-source';
import { EffectiveFilterService } from './effective-filter.service';
import { RlsRulesController } from './rls-rules.controller';
import { RlsRulesService } from './rls-rules.service';
import { RowFilterService } from './row-filter.service';
import { RuleLookupsController } from './rule-lookups.controller';
import { RuleLookupsService } from './rule-lookups.service';
import { RuleSetCache } from './rule-set-cache';

/**
 * Row filter rules: their API, and RowFilterService, which the readers of
 * protected datasets (providers, scans, findings, resources) call. Global so
 * those modules can inject it without importing this one.
 */
@Global()
@Module({
  // The lookups controller first: its literal paths must win over ':id'.
  controllers: [RuleLookupsController, RlsRulesController],
  providers: [
    RuleSetCache,
    RowFilterService,
    EffectiveFilterService,
    RlsRulesService,
    RuleLookupsService,
    // The port the findings and resources reads declare for these rules.
    {
      provide: ROW_FILTER_SOURCE,
      inject: [RowFilterService],
      useFactory: (rowFilters: RowFilterService): RowFilterSource => ({
        predicate: (dataset, tableAlias, paramOffset) => rowFilters.predicateFor(dataset, tableAlias, paramOffset),
      }),
    },
  ],
  exports: [RowFilterService, ROW_FILTER_SOURCE],
})
export class RlsRulesModule {}
