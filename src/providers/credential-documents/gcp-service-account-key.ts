import { jsonDepthExceeds } from '../../common/json/json-depth';

/**
 * The fields of a Google service account key file, each with the value it
 * may take. Google's client libraries read a key's `type` to decide how to
 * authenticate: `external_account` and the others fetch tokens through a
 * `credential_source` that names a file, a URL or an executable on the
 * scanning host, so only `service_account` is accepted. The endpoints a key
 * names are where the client sends a signed token: they must be Google's.
 */
const FIELDS: Readonly<Record<string, RegExp>> = {
  type: /^service_account$/,
  project_id: /^[a-z0-9.:-]{1,100}$/,
  private_key_id: /^[0-9a-f]{1,64}$/i,
  private_key: /^-----BEGIN (RSA )?PRIVATE KEY-----[\s\S]+-----END (RSA )?PRIVATE KEY-----\s*$/,
  client_email: /^[^\s@]+@[^\s@]+$/,
  client_id: /^[0-9]{1,64}$/,
  auth_uri: /^https:\/\/accounts\.google\.com\/o\/oauth2\/auth$/,
  token_uri: /^https:\/\/(oauth2\.googleapis\.com\/token|accounts\.google\.com\/o\/oauth2\/token)$/,
  auth_provider_x509_cert_url: /^https:\/\/www\.googleapis\.com\/oauth2\/v1\/certs$/,
  client_x509_cert_url: /^https:\/\/www\.googleapis\.com\/robot\/v1\/metadata\/x509\/[^\s/?#]+$/,
  universe_domain: /^googleapis\.com$/,
};
const REQUIRED = ['type', 'private_key', 'client_email'];

/**
 * What is wrong with a GCP service account key (an object, or its JSON text
 * for the providers that take it as text), worded to follow the field name;
 * undefined when it may be used. Names fields, never values.
 */
export function gcpServiceAccountKeyProblem(key: unknown): string | undefined {
  if (typeof key === 'string') {
    if (jsonDepthExceeds(key)) return 'nests too deeply to be a service account key.';
    try {
      key = JSON.parse(key);
    } catch {
      return 'must be the JSON of a service account key.';
    }
  }
  if (typeof key !== 'object' || key === null || Array.isArray(key)) return 'must be a service account key (a JSON object).';
  const fields = key as Record<string, unknown>;
  if (fields.type !== 'service_account') {
    return "must be a key of type 'service_account'; other credential types (external_account, authorized_user, impersonated_service_account) make the client read files, call URLs or run programs on the scanning host.";
  }
  for (const [field, value] of Object.entries(fields)) {
    const rule = FIELDS[field];
    if (!rule) return `holds '${field}', which is not a field of a service account key.`;
    if (typeof value !== 'string' || !rule.test(value)) return `has a '${field}' that is not what Google issues.`;
  }
  const missing = REQUIRED.filter((field) => !(field in fields));
  return missing.length > 0 ? `lacks ${missing.map((field) => `'${field}'`).join(', ')}.` : undefined;
}
