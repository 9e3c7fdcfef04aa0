import { Body, Controller, Inject, Param, Post, Query, Res, UseGuards } from '@nestjs/common';
import { BARE_TOKEN_PAIR_ANSWER, tokenPairAnswer } from '../auth/token-answer';
import { ApiTags } from '@nestjs/swagger';
import { randomUUID } from 'node:crypto';
import type { FastifyReply } from 'fastify';
import Redis from 'ioredis';
import { IsString, Length } from 'class-validator';
import { ApiError } from '../common/errors/api-error';
import { Endpoint } from '../common/http/endpoint.decorator';
import { Example } from '../common/jsonapi/example';
import { Omittable } from '../common/jsonapi/omittable';
import { ParsedResourceBody } from '../common/jsonapi/request-body';
import { ResourceBody } from '../common/jsonapi/resource-body.decorator';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { REDIS } from '../redis/redis.module';
import { TokenThrottleGuard } from '../auth/token-throttle.guard';
import { SamlSignInService } from './saml-sign-in.service';

class SamlInitiateAttributes {
  /** Prowler's UI sends the whole email address here; a bare domain works too. */
  @Example('ana@example.com') @IsString() @Length(1, 254) email_domain!: string;
  @Example('https://app.example.com/api/auth/callback/saml') @Omittable() @IsString() @Length(1, 2000) callback_url?: string;
}

/** How long the one-time id a finished sign-in hands the UI stays good. */
const HANDOFF_TTL_SECONDS = 60;

@ApiTags('SAML')
// Sign-ins by SAML spend the same per-address budget as sign-ins by password.
@UseGuards(TokenThrottleGuard)
@Controller()
export class SamlSignInController {
  constructor(
    private readonly saml: SamlSignInService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(REDIS) private readonly redis: Redis,
  ) {}

  /** What Prowler's sign-in page calls: 302 to the IdP with a signed-in request, 403 for a domain no tenant configured. */
  @Post('auth/saml/initiate')
  @Endpoint({ summary: 'Start a SAML sign-in for an email address: redirects (302) to the IdP', public: true, status: 302, errors: [403] })
  async initiate(@ResourceBody({ type: 'saml-initiate', attributes: SamlInitiateAttributes }) { attributes }: ParsedResourceBody<SamlInitiateAttributes>, @Res({ passthrough: true }) reply: FastifyReply) {
    reply.header('location', await this.saml.initiate(attributes.email_domain));
  }

  /**
   * The assertion consumer (SAML POST binding). Without SAML_SSO_CALLBACK_URL
   * it answers the tokens as `POST /tokens` does; with it, as Prowler does, it
   * redirects the browser there with a one-time `id` that `POST /tokens/saml` exchanges.
   */
  @Post('accounts/saml/:domain/acs')
  @Endpoint({
    summary: 'SAML assertion consumer: checks the IdP’s signed assertion and signs the user in',
    public: true,
    answer: tokenPairAnswer('tokens'),
    redirects: true,
    errors: [401],
    body: { form: { type: 'object', required: ['SAMLResponse'], properties: { SAMLResponse: { type: 'string', description: 'The IdP’s base64 response.' } } } },
  })
  async consume(@Param('domain') domain: string, @Body() body: unknown, @Res({ passthrough: true }) reply: FastifyReply) {
    const samlResponse = typeof body === 'object' && body !== null ? (body as Record<string, unknown>).SAMLResponse : undefined;
    const pair = await this.saml.consume(domain, samlResponse);
    if (!this.config.saml.callbackUrl) return { data: { type: 'tokens', attributes: pair } };
    const id = randomUUID();
    await this.redis.set(`saml:handoff:${id}`, JSON.stringify(pair), 'EX', HANDOFF_TTL_SECONDS);
    const target = new URL(this.config.saml.callbackUrl);
    target.searchParams.set('id', id);
    reply.status(302).header('location', target.toString());
    return undefined;
  }

  /** Prowler UI's callback exchanges the one-time id for the tokens: `{"data": {"access", "refresh"}}`, once. */
  @Post('tokens/saml')
  @Endpoint({ summary: 'Exchange the one-time id of a finished SAML sign-in for its tokens', public: true, answer: BARE_TOKEN_PAIR_ANSWER })
  async exchange(@Query('id') id: unknown) {
    const stored = typeof id === 'string' && /^[0-9a-f-]{36}$/i.test(id) ? await this.redis.getdel(`saml:handoff:${id}`) : null;
    if (!stored) throw ApiError.notFound('Invalid token ID.');
    return { data: JSON.parse(stored) };
  }
}
