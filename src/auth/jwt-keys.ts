import { createPrivateKey, createPublicKey, createSecretKey, KeyObject } from 'node:crypto';
import { AppConfig } from '../config/app-config';

export interface JwtKeys {
  sign: KeyObject;
  verify: KeyObject;
}

const cache = new WeakMap<AppConfig['jwt'], JwtKeys>();

/**
 * Key objects built once. Handed a string, jsonwebtoken first tries to parse
 * it as a PEM public key on every call and falls back on the exception, which
 * was the largest single cost of an authenticated request.
 */
export function jwtKeys(jwt: AppConfig['jwt']): JwtKeys {
  let keys = cache.get(jwt);
  if (!keys) {
    keys =
      jwt.algorithm === 'HS256'
        ? { sign: createSecretKey(Buffer.from(jwt.signingKey)), verify: createSecretKey(Buffer.from(jwt.verifyKey)) }
        : { sign: createPrivateKey(jwt.signingKey), verify: createPublicKey(jwt.verifyKey) };
    cache.set(jwt, keys);
  }
  return keys;
}
