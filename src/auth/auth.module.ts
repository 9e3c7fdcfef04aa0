import { Module } from '@nestjs/common';
import { PassportModule } from '@nestjs/passport';
import { JwtStrategy } from './jwt.strategy';
import { SignInService } from './sign-in.service';
import { TenantsController } from './tenants.controller';
import { TenantsService } from './tenants.service';
import { TokenService } from './token.service';
import { TokensController } from './tokens.controller';
import { TokenThrottleGuard } from './token-throttle.guard';
import { UsersController } from './users.controller';
import { UsersService } from './users.service';

@Module({
  imports: [PassportModule.register({ session: false })],
  controllers: [TokensController, UsersController, TenantsController],
  providers: [JwtStrategy, TokenService, SignInService, UsersService, TenantsService, TokenThrottleGuard],
  exports: [TokenService, UsersService, TenantsService],
})
export class AuthModule {}
