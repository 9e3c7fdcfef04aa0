import { Injectable, OnModuleInit } from '@nestjs/common';
import { IncludeGraph } from '../common/jsonapi/include-graph';
import { scanResource } from './scan.resource';
import { ScansRepository } from './scans.repository';

/** Scans as included resources: those of providers the caller sees, under the `scans` row filter rules. */
@Injectable()
export class ScanIncludeSources implements OnModuleInit {
  constructor(
    private readonly graph: IncludeGraph,
    private readonly scans: ScansRepository,
  ) {}

  onModuleInit(): void {
    this.graph.register({ definition: scanResource, load: (ids) => this.scans.findMany(ids) });
  }
}
