/** The assertion consumer path (under /api/v1): the one place a form-encoded body is accepted, as SAML's POST binding sends it. */
export const SAML_ACS_PATH = /^\/api\/v1\/accounts\/saml\/[^/?]+\/acs\/?(\?|$)/;

/** Prowler's UI and IdPs use these paths with a trailing slash, which the routes (like every route here) are declared without. */
const SAML_SLASHED_PATH = /^(\/api\/v1\/(?:auth\/saml\/initiate|accounts\/saml\/[^/?]+\/acs))\/(\?.*)?$/;

/** The request URL with the SAML paths' trailing slash dropped; any other URL as it is. */
export function withoutSamlTrailingSlash(url: string): string {
  const match = SAML_SLASHED_PATH.exec(url);
  return match ? `${match[1]}${match[2] ?? ''}` : url;
}
