import { forwardRef, Module } from '@nestjs/common';
import { AccessModule } from '../rbac/access.module';
import { ProviderSecretsController } from './provider-secrets.controller';
import { ProviderSecretsService } from './provider-secrets.service';
import { ProvidersController } from './providers.controller';
import { ProvidersService } from './providers.service';
import { ProviderIncludeSources } from './provider-include-sources';

/**
 * Providers and their encrypted secrets. Provider groups (AccessModule) check
 * provider ids through ProvidersService, and a provider's `include=provider_groups`
 * reads groups through ProviderGroupsService: the two modules refer to each other.
 */
@Module({
  imports: [forwardRef(() => AccessModule)],
  // The secrets controller first, so `providers/secrets` is registered before `providers/:id`.
  controllers: [ProviderSecretsController, ProvidersController],
  providers: [ProvidersService, ProviderSecretsService, ProviderIncludeSources],
  exports: [ProvidersService, ProviderSecretsService],
})
export class ProvidersModule {}
