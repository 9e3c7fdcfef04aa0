import { forwardRef, Module } from '@nestjs/common';
import { ProvidersModule } from '../providers/providers.module';
import { AccessIncludeSources } from './access-include-sources';
import { ProviderGroupsController } from './provider-groups.controller';
import { ProviderGroupsService } from './provider-groups.service';
import { RolesController } from './roles.controller';
import { RolesService } from './roles.service';

/**
 * Roles and provider groups: who may do what, and see which providers. Kept
 * apart from RbacModule, which every process (the worker too) loads for the
 * principal alone. Refers back to ProvidersModule, which refers to it (see there).
 */
@Module({
  imports: [forwardRef(() => ProvidersModule)],
  controllers: [RolesController, ProviderGroupsController],
  providers: [RolesService, ProviderGroupsService, AccessIncludeSources],
  exports: [RolesService, ProviderGroupsService],
})
export class AccessModule {}
