import { Injectable, OnModuleInit } from '@nestjs/common';
import { IncludeGraph } from '../common/jsonapi/include-graph';
import { providerResource } from './provider.resource';
import { ProvidersService } from './providers.service';

/** Providers as included resources: the live ones the caller sees, under the `providers` row filter rules. */
@Injectable()
export class ProviderIncludeSources implements OnModuleInit {
  constructor(
    private readonly graph: IncludeGraph,
    private readonly providers: ProvidersService,
  ) {}

  onModuleInit(): void {
    this.graph.register({
      definition: providerResource,
      load: (ids) => this.providers.findVisible(ids),
    });
  }
}
