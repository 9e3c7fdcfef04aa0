import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import { SamlConfigurationsController } from './saml-configurations.controller';
import { SamlConfigurationsService } from './saml-configurations.service';
import { SamlSignInController } from './saml-sign-in.controller';
import { SamlSignInService } from './saml-sign-in.service';

/** SAML single sign-on: the tenant's IdP configuration, and the sign-in through it. */
@Module({
  imports: [AuthModule],
  controllers: [SamlConfigurationsController, SamlSignInController],
  providers: [SamlConfigurationsService, SamlSignInService],
})
export class SamlModule {}
