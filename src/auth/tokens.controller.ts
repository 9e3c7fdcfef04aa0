import { Body, Controller, Post, Req, UseGuards } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { Endpoint } from '../common/http/endpoint.decorator';
import { parseResourceBody } from '../common/jsonapi/request-body';
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
  @Endpoint({ summary: 'Obtain a token pair', public: true, body: { resource: { type: 'tokens', attributes: SignInAttributes } }, answer: tokenPairAnswer('tokens'), errors: [401, 403] })
  async obtain(@Body() body: unknown) {
    const { attributes } = await parseResourceBody(body, { type: 'tokens', attributes: SignInAttributes, acceptsTenantId: true });
    const pair = await this.signIn.signIn(attributes.email, attributes.password, attributes.tenant_id);
    return { data: { type: 'tokens', attributes: pair } };
  }

  @Post('refresh')
  @Endpoint({ summary: 'Refresh a token pair (the refresh token is single use)', public: true, body: { resource: { type: 'tokens-refresh', attributes: RefreshAttributes } }, answer: tokenPairAnswer('tokens-refresh'), errors: [401] })
  async refresh(@Body() body: unknown) {
    const { attributes } = await parseResourceBody(body, { type: 'tokens-refresh', attributes: RefreshAttributes });
    const pair = await this.tokens.refresh(attributes.refresh);
    return { data: { type: 'tokens-refresh', attributes: pair } };
  }

  @Post('switch')
  @Endpoint({ summary: 'Switch to another tenant the user belongs to', body: { resource: { type: 'tokens-switch-tenant', attributes: SwitchTenantAttributes } }, answer: tokenPairAnswer('tokens-switch-tenant') })
  @OutsideTenantTransaction()
  async switch(@Body() body: unknown, @Req() request: FastifyRequest & { user: AuthenticatedUser }) {
    const { attributes } = await parseResourceBody(body, { type: 'tokens-switch-tenant', attributes: SwitchTenantAttributes, acceptsTenantId: true });
    const pair = await this.signIn.switchTenant(request.user.userId, attributes.tenant_id);
    return { data: { type: 'tokens-switch-tenant', attributes: pair } };
  }
}
