import { Module } from '@nestjs/common';
import { ApiKeyAuthenticator } from './api-key-authenticator';
import { ApiKeyUsage } from './api-key-usage';
import { ApiKeysController } from './api-keys.controller';
import { ApiKeysService } from './api-keys.service';

/** API keys: their endpoints, and the authenticator the global auth guard uses for `Api-Key <key>`. */
@Module({
  controllers: [ApiKeysController],
  providers: [ApiKeyAuthenticator, ApiKeyUsage, ApiKeysService],
  exports: [ApiKeyAuthenticator, ApiKeyUsage],
})
export class ApiKeysModule {}
