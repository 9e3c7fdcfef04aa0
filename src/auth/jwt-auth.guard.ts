import { ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard } from '@nestjs/passport';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiKeyAuthenticator, ThrottledError } from '../api-keys/api-key-authenticator';
import { isApiKeyHeader } from '../api-keys/api-key-secret';
import { ApiError } from '../common/errors/api-error';
import { IS_PUBLIC } from './public.decorator';

/** `Bearer <token68>` (RFC 9110), and nothing after it. */
const BEARER_HEADER = /^bearer [A-Za-z0-9._~+/-]+=*$/i;
const INVALID_TOKEN = new ApiError(401, 'token_not_valid', 'The access token is missing or not valid.');

/**
 * Every endpoint needs a valid access token (`Bearer <jwt>`) or API key
 * (`Api-Key <key>`) unless it is marked @Public().
 */
@Injectable()
export class JwtAuthGuard extends AuthGuard('jwt') {
  constructor(
    private readonly reflector: Reflector,
    private readonly apiKeys: ApiKeyAuthenticator,
  ) {
    super();
  }

  override async canActivate(context: ExecutionContext): Promise<boolean> {
    const isPublic = this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, [context.getHandler(), context.getClass()]);
    if (isPublic) return true;
    const request = context.switchToHttp().getRequest<FastifyRequest & { user?: unknown }>();
    const header = request.headers.authorization;
    if (isApiKeyHeader(header)) {
      try {
        request.user = await this.apiKeys.authenticate(header, request.ip);
      } catch (error) {
        if (error instanceof ThrottledError) context.switchToHttp().getResponse<FastifyReply>().header('retry-after', String(error.retryAfterSeconds));
        throw error;
      }
      return true;
    }
    // passport-jwt reads the first two words of the header and ignores the rest: refuse anything but one bearer credential.
    if (header !== undefined && !BEARER_HEADER.test(header)) throw INVALID_TOKEN;
    return (await super.canActivate(context)) as boolean;
  }

  override handleRequest<T>(error: unknown, user: T, info: unknown): T {
    if (error || !user) {
      const expired = (info as { name?: string } | undefined)?.name === 'TokenExpiredError';
      throw expired ? new ApiError(401, 'token_not_valid', 'The access token has expired.') : INVALID_TOKEN;
    }
    return user;
  }
}
