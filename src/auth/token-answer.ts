import { JsonSchema, objectOf, text } from '../common/jsonapi/attribute-schema';

const PAIR = objectOf({ access: text, refresh: text });

/** The token endpoints' answer: `{ data: { type, attributes: { access, refresh } } }`, no id (as Prowler answers). */
export function tokenPairAnswer(type: string): JsonSchema {
  return objectOf({ data: objectOf({ type: { const: type }, attributes: PAIR }) });
}

/** The SAML hand-off's answer, Prowler's shape: `{ data: { access, refresh } }`. */
export const BARE_TOKEN_PAIR_ANSWER: JsonSchema = objectOf({ data: PAIR });
