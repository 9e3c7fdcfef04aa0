import { Injectable, OnModuleInit } from '@nestjs/common';
import { IncludeGraph } from '../common/jsonapi/include-graph';
import { findingResource } from './finding.resource';
import { FindingsService } from './findings.service';
import { resourceResource } from './resources/resource.resource';
import { ResourcesService } from './resources/resources.service';

/** Findings and resources as included resources, each under its own dataset's visibility and row filter rules. */
@Injectable()
export class FindingsIncludeSources implements OnModuleInit {
  constructor(
    private readonly graph: IncludeGraph,
    private readonly findings: FindingsService,
    private readonly resources: ResourcesService,
  ) {}

  onModuleInit(): void {
    this.graph.register({ definition: findingResource, load: (ids) => this.findings.findMany(ids) });
    this.graph.register({ definition: resourceResource, load: (ids) => this.resources.findVisible(ids) });
  }
}
