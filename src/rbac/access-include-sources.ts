import { Injectable, OnModuleInit } from '@nestjs/common';
import { IncludeGraph } from '../common/jsonapi/include-graph';
import { providerGroupResource } from './provider-group.resource';
import { ProviderGroupsService } from './provider-groups.service';
import { roleResource } from './role.resource';
import { RolesService } from './roles.service';

/** Roles and the provider groups the caller sees, as included resources. */
@Injectable()
export class AccessIncludeSources implements OnModuleInit {
  constructor(
    private readonly graph: IncludeGraph,
    private readonly roles: RolesService,
    private readonly groups: ProviderGroupsService,
  ) {}

  onModuleInit(): void {
    this.graph.register({ definition: roleResource, load: (ids) => this.roles.findByIds(ids) });
    this.graph.register({ definition: providerGroupResource, load: (ids) => this.groups.findVisible(ids) });
  }
}
