import { ApiError } from '../common/errors/api-error';

/** Every provider type the API accepts, in the order the contract lists them. */
export const PROVIDER_TYPES = [
  'aws',
  'azure',
  'gcp',
  'kubernetes',
  'm365',
  'github',
  'iac',
  'oraclecloud',
  'mongodbatlas',
  'alibabacloud',
  'cloudflare',
  'openstack',
  'image',
  'googleworkspace',
  'vercel',
  'okta',
] as const;

export type ProviderType = (typeof PROVIDER_TYPES)[number];

export const UID_MIN_LENGTH = 3;
export const UID_MAX_LENGTH = 250;

interface UidRule {
  /** Rewrites the uid before it is checked and stored; identity when absent. */
  normalise?: (uid: string) => string;
  accepts: (uid: string) => boolean;
  /** Tells the client what a valid uid looks like; never echoes the value sent. */
  expected: string;
}

const matches = (pattern: RegExp) => (uid: string) => pattern.test(uid);

const IAC_GIT_URL = /^(https?:\/\/|git@|ssh:\/\/)[^\s/]+[^\s]*\.git$/;
const IAC_HTTP_URL = /^(https?:\/\/)[^\s/]+[^\s]*$/;

const UID_RULES: Record<ProviderType, UidRule> = {
  aws: {
    accepts: matches(/^\d{12}$/),
    expected: 'a 12-digit AWS account ID',
  },
  azure: {
    accepts: matches(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/),
    expected: 'an Azure subscription ID: a UUID v4 in lowercase canonical form',
  },
  gcp: {
    accepts: matches(/^([a-z][a-z0-9.-]*:)?[a-z][a-z0-9-]{5,29}$/),
    expected: 'a GCP project ID: 6 to 30 lowercase letters, digits or hyphens starting with a letter, optionally prefixed by an organisation domain and a colon',
  },
  kubernetes: {
    accepts: matches(/^[a-zA-Z0-9][a-zA-Z0-9._@:/-]{1,250}$/),
    expected: 'a Kubernetes context name: letters, digits and . _ @ : / - starting with a letter or digit',
  },
  m365: {
    // Labels of 1-63 characters that neither start nor end with a hyphen, then an alphabetic TLD.
    accepts: matches(/^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+[a-zA-Z]{2,}$/),
    expected: 'a Microsoft 365 tenant domain name such as contoso.onmicrosoft.com',
  },
  github: {
    accepts: matches(/^[a-zA-Z0-9][a-zA-Z0-9-]{0,38}$/),
    expected: 'a GitHub user or organisation name: up to 39 letters, digits or hyphens starting with a letter or digit',
  },
  iac: {
    accepts: (uid) => IAC_GIT_URL.test(uid) || IAC_HTTP_URL.test(uid),
    expected: 'a repository URL: http(s)://, ssh:// or git@ ending in .git, or any http(s) URL',
  },
  oraclecloud: {
    accepts: matches(/^ocid1\.([a-z0-9_-]+)\.([a-z0-9_-]+)\.([a-z0-9_-]*)\.([a-z0-9]+)$/),
    expected: 'an Oracle Cloud tenancy OCID such as ocid1.tenancy.oc1..<unique id>',
  },
  mongodbatlas: {
    accepts: matches(/^[0-9a-fA-F]{24}$/),
    expected: 'a MongoDB Atlas organisation ID: 24 hexadecimal characters',
  },
  alibabacloud: {
    accepts: matches(/^\d{16}$/),
    expected: 'a 16-digit Alibaba Cloud account ID',
  },
  cloudflare: {
    accepts: matches(/^[a-f0-9]{32}$/),
    expected: 'a Cloudflare account ID: 32 lowercase hexadecimal characters',
  },
  openstack: {
    accepts: matches(/^[a-zA-Z0-9][a-zA-Z0-9._-]{0,254}$/),
    expected: 'an OpenStack project ID: letters, digits and . _ - starting with a letter or digit',
  },
  image: {
    accepts: matches(/^[a-zA-Z0-9][a-zA-Z0-9._/:@-]{2,249}$/),
    expected: 'a container image reference such as registry.example.com/team/app:1.0',
  },
  googleworkspace: {
    accepts: matches(/^C[0-9a-zA-Z]+$/),
    expected: "a Google Workspace customer ID: 'C' followed by letters or digits",
  },
  vercel: {
    accepts: matches(/^team_[a-zA-Z0-9]{16,32}$/),
    expected: "a Vercel team ID: 'team_' followed by 16 to 32 letters or digits",
  },
  okta: {
    // Okta org hostnames are case-insensitive; storing one spelling keeps the
    // per-tenant uniqueness check meaningful.
    normalise: (uid) => uid.trim().toLowerCase(),
    accepts: matches(
      /^[a-z0-9][a-z0-9-]*\.(okta\.com|oktapreview\.com|okta-emea\.com|okta-gov\.com|okta\.mil|okta-miltest\.com|trex-govcloud\.com)$/,
    ),
    expected: 'an Okta org domain such as acme.okta.com (okta.com, oktapreview.com, okta-emea.com, okta-gov.com, okta.mil, okta-miltest.com or trex-govcloud.com)',
  },
};

/**
 * Checks a provider uid against its provider's rule and returns the value to
 * store. Throws a 400 `<provider>-uid` error pointing at the uid attribute.
 */
export function validateProviderUid(provider: ProviderType, uid: string): string {
  const rule = UID_RULES[provider];
  const normalised = rule.normalise ? rule.normalise(uid) : uid;
  const invalid = (detail: string) =>
    ApiError.badRequest(`${provider}-uid`, detail, { pointer: '/data/attributes/uid' });

  if (normalised.length < UID_MIN_LENGTH || normalised.length > UID_MAX_LENGTH) {
    throw invalid(`The ${provider} provider UID must be between ${UID_MIN_LENGTH} and ${UID_MAX_LENGTH} characters long.`);
  }
  if (!rule.accepts(normalised)) {
    throw invalid(`The ${provider} provider UID must be ${rule.expected}.`);
  }
  return normalised;
}
