import { Module } from '@nestjs/common';
import { AuthIncludeSources } from './auth-include-sources';
import { PassportModule } from '@nestjs/passport';
import { MailModule } from '../mail/mail.module';
import { AccessModule } from '../rbac/access.module';
import { EmailVerificationService } from './email-verification.service';
import { EmailVerificationsController } from './email-verifications.controller';
import { InvitationsController } from './invitations.controller';
import { InvitationsService } from './invitations.service';
import { JwtStrategy } from './jwt.strategy';
import { SignInService } from './sign-in.service';
import { TenantsController } from './tenants.controller';
import { TenantsService } from './tenants.service';
import { TokenService } from './token.service';
import { TokensController } from './tokens.controller';
import { SignUpThrottleGuard } from './sign-up-throttle.guard';
import { AccountThrottle } from './throttle';
import { TokenThrottleGuard } from './token-throttle.guard';
import { UsersController } from './users.controller';
import { UsersService } from './users.service';

@Module({
  imports: [PassportModule.register({ session: false }), AccessModule, MailModule],
  // Invitations before tenants: `tenants/invitations` is a path of its own, not a tenant id.
  controllers: [TokensController, UsersController, EmailVerificationsController, InvitationsController, TenantsController],
  providers: [
    AuthIncludeSources,
    JwtStrategy,
    TokenService,
    SignInService,
    UsersService,
    TenantsService,
    InvitationsService,
    EmailVerificationService,
    AccountThrottle,
    TokenThrottleGuard,
    SignUpThrottleGuard,
  ],
  exports: [TokenService, UsersService, TenantsService, TokenThrottleGuard, AccountThrottle],
})
export class AuthModule {}
