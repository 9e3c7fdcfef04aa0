import { Controller, Post, Req, UseGuards } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { Endpoint } from '../common/http/endpoint.decorator';
import { ParsedResourceBody } from '../common/jsonapi/request-body';
import { ResourceBody } from '../common/jsonapi/resource-body.decorator';
import { OutsideTenantTransaction } from '../database/tenant.interceptor';
import { AuthenticatedUser } from './authenticated-user';
import { SignInService } from './sign-in.service';
import { RefreshAttributes, SignInAttributes, SwitchTenantAttributes } from './token.dto';
import { tokenPairAnswer } from './token-answer';
import { TokenService } from './token.service';
import { TokenThrottleGuard } from './token-throttle.guard';

@ApiTags('Token')
@Controller('tokens')
@UseGuards(TokenThrottleGuard)
export class TokensController {
  constructor(
    private readonly signIn: SignInService,
    private readonly tokens: TokenService,
  ) {}

  @Post()
  @Endpoint({ summary: 'Obtain a token pair', public: true, answer: tokenPairAnswer('tokens'), errors: [401, 403] })
  async obtain(@ResourceBody({ type: 'tokens', attributes: SignInAttributes, acceptsTenantId: true }) { attributes }: ParsedResourceBody<SignInAttributes>) {
    const pair = await this.signIn.signIn(attributes.email, attributes.password, attributes.tenant_id);
    return { data: { type: 'tokens', attributes: pair } };
  }

  @Post('refresh')
  @Endpoint({ summary: 'Refresh a token pair (the refresh token is single use)', public: true, answer: tokenPairAnswer('tokens-refresh'), errors: [401] })
  async refresh(@ResourceBody({ type: 'tokens-refresh', attributes: RefreshAttributes }) { attributes }: ParsedResourceBody<RefreshAttributes>) {
    const pair = await this.tokens.refresh(attributes.refresh);
    return { data: { type: 'tokens-refresh', attributes: pair } };
  }

  @Post('switch')
  @Endpoint({ summary: 'Switch to another tenant the user belongs to', answer: tokenPairAnswer('tokens-switch-tenant') })
  @OutsideTenantTransaction()
  async switch(@ResourceBody({ type: 'tokens-switch-tenant', attributes: SwitchTenantAttributes, acceptsTenantId: true }) { attributes }: ParsedResourceBody<SwitchTenantAttributes>, @Req() request: FastifyRequest & { user: AuthenticatedUser }) {
    const pair = await this.signIn.switchTenant(request.user.userId, attributes.tenant_id);
    return { data: { type: 'tokens-switch-tenant', attributes: pair } };
  }
}
