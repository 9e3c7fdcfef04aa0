import { Inject, Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { ExtractJwt, Strategy } from 'passport-jwt';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { isUuid } from '../database/uuid';
import { AuthenticatedUser } from './authenticated-user';
import { jwtKeys } from './jwt-keys';
import { ACCESS_TOKEN_TYPE } from './token.service';

interface AccessClaims {
  sub?: unknown;
  tenant_id?: unknown;
  typ?: unknown;
  jti?: unknown;
}

/**
 * Verifies bearer access tokens. The algorithm list is pinned to the one the
 * server signs with, so `alg: none` and algorithm-confusion tokens fail.
 */
@Injectable()
export class JwtStrategy extends PassportStrategy(Strategy, 'jwt') {
  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    super({
      jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
      secretOrKey: jwtKeys(config.jwt).verify as unknown as string,
      algorithms: [config.jwt.algorithm],
      issuer: config.jwt.issuer,
      audience: config.jwt.audience,
      ignoreExpiration: false,
    });
  }

  validate(claims: AccessClaims): AuthenticatedUser | false {
    if (claims.typ !== ACCESS_TOKEN_TYPE || !isUuid(claims.sub) || !isUuid(claims.tenant_id) || typeof claims.jti !== 'string') {
      return false;
    }
    return { userId: claims.sub.toLowerCase(), tenantId: claims.tenant_id.toLowerCase(), tokenId: claims.jti };
  }
}
