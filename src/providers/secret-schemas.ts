import { ApiError, ApiErrors } from '../common/errors/api-error';
import { cloudsYamlProblem } from './credential-documents/openstack-clouds-yaml';
import { gcpServiceAccountKeyProblem } from './credential-documents/gcp-service-account-key';
import { kubeconfigProblem } from './credential-documents/kubeconfig';
import { remoteEndpointProblem } from './credential-documents/remote-endpoint';
import type { ProviderType } from './provider-uid-rules';

/**
 * Field sets of a provider secret's `secret` body, per provider type and
 * secret type, following the `secret` oneOf of the provider-secrets schemas in
 * the v1 contract. The contract lists the bodies but not which provider or
 * secret type each belongs to; the mapping below is ours and is noted where it
 * is a choice.
 *
 * Error details name fields, never the values sent: these are credentials.
 */

export const SECRET_TYPES = ['static', 'role', 'service_account'] as const;
export type SecretType = (typeof SECRET_TYPES)[number];

/**
 * A document check says what is wrong with a value that has the right JSON
 * type (worded to follow the field name), undefined when it fits. Documents a
 * cloud client reads (kubeconfigs, key files, clouds.yaml) and URLs it
 * connects to are checked so that no field makes the client run a program,
 * read a file or call an address on the scanning host (see README, "Secret
 * fields a scan could turn against the worker").
 */
type DocumentCheck<T> = (value: T) => string | undefined;

type FieldRule =
  | { kind: 'string'; pattern?: RegExp; patternHint?: string; check?: DocumentCheck<string> }
  | { kind: 'email' }
  | { kind: 'integer'; min?: number; max?: number }
  | { kind: 'object'; check?: DocumentCheck<Record<string, unknown>> }
  | { kind: 'string-list' };

type FieldRules = Readonly<Record<string, FieldRule>>;

/**
 * One way of authenticating. A body must use exactly one variant: every
 * required field present and no field that only other variants know.
 */
interface CredentialVariant {
  label: string;
  required: FieldRules;
  optional?: FieldRules;
}

type SecretShape = readonly CredentialVariant[];

const text: FieldRule = { kind: 'string' };
const email: FieldRule = { kind: 'email' };

const AWS_KEYS = { aws_access_key_id: text, aws_secret_access_key: text } as const;
const AZURE_APP = { client_id: text, tenant_id: text } as const;
const ALIBABA_KEYS = { access_key_id: text, access_key_secret: text } as const;
const OCI_IDENTITY = { user: text, fingerprint: text, tenancy: text, region: text } as const;

const GCP_SERVICE_ACCOUNT_KEY: FieldRule = { kind: 'object', check: gcpServiceAccountKeyProblem };
const KUBECONFIG: FieldRule = { kind: 'string', check: kubeconfigProblem };
const CLOUDS_YAML: FieldRule = { kind: 'string', check: cloudsYamlProblem };
/** A repository Prowler clones: over https from a remote host, never file:, ssh (the worker's own keys) or git's ext:: transport. */
const REPOSITORY_URL: FieldRule = { kind: 'string', check: (value) => remoteEndpointProblem(value) };

/** Google Workspace uses a service account with domain-wide delegation; its key file comes as text. */
const GOOGLE_WORKSPACE: SecretShape = [
  {
    label: 'Google Workspace service account',
    required: { credentials_content: { kind: 'string', check: gcpServiceAccountKeyProblem }, delegated_user: email },
  },
];

const SECRET_SHAPES: Readonly<Record<ProviderType, Partial<Record<SecretType, SecretShape>>>> = {
  aws: {
    static: [{ label: 'AWS static credentials', required: AWS_KEYS, optional: { aws_session_token: text } }],
    role: [
      {
        label: 'AWS role assumption',
        required: { role_arn: text, external_id: text },
        // The access keys are optional: without them the worker's own credentials assume the role.
        optional: {
          ...AWS_KEYS,
          aws_session_token: text,
          session_duration: { kind: 'integer', min: 900, max: 43200 },
          role_session_name: {
            kind: 'string',
            pattern: /^[a-zA-Z0-9=,.@_-]+$/,
            patternHint: 'letters, digits and = , . @ _ - without spaces',
          },
        },
      },
    ],
  },
  azure: {
    static: [{ label: 'Azure static credentials', required: { ...AZURE_APP, client_secret: text } }],
  },
  gcp: {
    static: [{ label: 'GCP static credentials', required: { client_id: text, client_secret: text, refresh_token: text } }],
    service_account: [{ label: 'GCP service account key', required: { service_account_key: GCP_SERVICE_ACCOUNT_KEY } }],
  },
  kubernetes: {
    static: [{ label: 'Kubernetes kubeconfig', required: { kubeconfig_content: KUBECONFIG } }],
  },
  m365: {
    // The contract marks `user` and `password` required but deprecated; they
    // are accepted, not demanded, so app-only clients are not forced to send them.
    static: [
      {
        label: 'M365 client secret credentials',
        required: { ...AZURE_APP, client_secret: text },
        optional: { user: email, password: text },
      },
      { label: 'M365 certificate credentials', required: { ...AZURE_APP, certificate_content: text } },
    ],
  },
  github: {
    static: [
      { label: 'GitHub personal access token', required: { personal_access_token: text } },
      { label: 'GitHub OAuth app token', required: { oauth_app_token: text } },
      { label: 'GitHub App credentials', required: { github_app_id: { kind: 'integer', min: 1 }, github_app_key: text } },
    ],
  },
  iac: {
    static: [{ label: 'IaC repository credentials', required: { repository_url: REPOSITORY_URL }, optional: { access_token: text } }],
  },
  oraclecloud: {
    // The contract also has `key_file`, a path on the scanning host: refused, the key comes inline only.
    static: [{ label: 'OCI API key content credentials', required: { ...OCI_IDENTITY, key_content: text }, optional: { pass_phrase: text } }],
  },
  mongodbatlas: {
    static: [{ label: 'MongoDB Atlas API key', required: { atlas_public_key: text, atlas_private_key: text } }],
  },
  alibabacloud: {
    static: [{ label: 'Alibaba Cloud static credentials', required: ALIBABA_KEYS, optional: { security_token: text } }],
    role: [
      {
        label: 'Alibaba Cloud RAM role assumption',
        required: { role_arn: text, ...ALIBABA_KEYS },
        optional: { role_session_name: text },
      },
    ],
  },
  cloudflare: {
    static: [
      { label: 'Cloudflare API token', required: { api_token: text } },
      { label: 'Cloudflare API key and email', required: { api_key: text, api_email: email } },
    ],
  },
  openstack: {
    static: [{ label: 'OpenStack clouds.yaml credentials', required: { clouds_yaml_content: CLOUDS_YAML, clouds_yaml_cloud: text } }],
  },
  image: {
    // Not in the contract. Registry credentials for pulling private images:
    // a bearer token, or a username with its password.
    static: [
      { label: 'container registry token', required: { registry_token: text } },
      { label: 'container registry username and password', required: { registry_username: text, registry_password: text } },
    ],
  },
  googleworkspace: {
    // The contract does not say which secret type carries this body. It is a
    // service account, so `service_account` fits; `static` is accepted too
    // because every other non-GCP provider sends `static`.
    static: GOOGLE_WORKSPACE,
    service_account: GOOGLE_WORKSPACE,
  },
  vercel: {
    static: [{ label: 'Vercel API token', required: { api_token: text } }],
  },
  okta: {
    static: [
      {
        label: 'Okta OAuth credentials',
        required: { okta_client_id: text, okta_private_key: text },
        optional: { okta_scopes: { kind: 'string-list' } },
      },
    ],
  },
};

/** The secret types each provider accepts. */
export const SECRET_TYPES_BY_PROVIDER: Readonly<Record<ProviderType, readonly SecretType[]>> = Object.freeze(
  Object.fromEntries(
    Object.entries(SECRET_SHAPES).map(([provider, shapes]) => [provider, Object.freeze(Object.keys(shapes) as SecretType[])]),
  ) as Record<ProviderType, readonly SecretType[]>,
);

const SECRET_POINTER = '/data/attributes/secret';
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/**
 * Validates a secret body for a provider and secret type. Returns a copy
 * holding only the fields the body's credential variant knows; throws
 * `ApiErrors` listing every problem found.
 */
export function validateSecret(provider: ProviderType, secretType: string, secret: unknown): Record<string, unknown> {
  const shape = shapeFor(provider, secretType);
  if (!isPlainObject(secret)) {
    throw new ApiErrors([invalid(SECRET_POINTER, 'The secret must be an object.')]);
  }

  const knownRules = rulesOf(shape);
  const errors: ApiError[] = [];
  const cleaned: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(secret)) {
    const rule = knownRules.get(field);
    const problem = rule ? checkValue(rule, value) : `is not a field of ${provider} ${secretType} secrets.`;
    if (problem) errors.push(invalid(fieldPointer(field), `'${field}' ${problem}`));
    else cleaned[field] = copyOf(value);
  }
  errors.push(...variantErrors(shape, Object.keys(secret).filter((field) => knownRules.has(field))));

  if (errors.length > 0) throw new ApiErrors(errors);
  return cleaned;
}

function shapeFor(provider: ProviderType, secretType: string): SecretShape {
  const shapes = SECRET_SHAPES[provider];
  const shape = Object.hasOwn(shapes, secretType) ? shapes[secretType as SecretType] : undefined;
  if (shape) return shape;
  const accepted = SECRET_TYPES_BY_PROVIDER[provider].join(', ');
  const detail = (SECRET_TYPES as readonly string[]).includes(secretType)
    ? `Secret type '${secretType}' is not supported for ${provider} providers; use one of: ${accepted}.`
    : `Secret type must be one of: ${SECRET_TYPES.join(', ')} (${provider} providers accept: ${accepted}).`;
  throw new ApiErrors([invalid('/data/attributes/secret_type', detail)]);
}

/** All fields any variant of the shape knows. A field has the same rule in every variant that names it. */
function rulesOf(shape: SecretShape): Map<string, FieldRule> {
  const rules = new Map<string, FieldRule>();
  for (const variant of shape) {
    for (const [field, rule] of Object.entries(allowedFields(variant))) rules.set(field, rule);
  }
  return rules;
}

function allowedFields(variant: CredentialVariant): FieldRules {
  return { ...variant.required, ...variant.optional };
}

/** Says what is wrong with a value, worded to follow its field name ("must be a string."); undefined when it fits. */
function checkValue(rule: FieldRule, value: unknown): string | undefined {
  switch (rule.kind) {
    case 'string':
      if (typeof value !== 'string') return 'must be a string.';
      if (value.trim() === '') return 'may not be blank.';
      if (rule.pattern && !rule.pattern.test(value)) return `must contain only ${rule.patternHint}.`;
      return rule.check?.(value);
    case 'email':
      if (typeof value !== 'string') return 'must be a string.';
      if (value.trim() === '') return 'may not be blank.';
      return EMAIL.test(value) ? undefined : 'must be an email address.';
    case 'integer':
      if (typeof value !== 'number' || !Number.isSafeInteger(value)) return 'must be an integer.';
      if (rule.min !== undefined && value < rule.min) return `must be at least ${rule.min}.`;
      if (rule.max !== undefined && value > rule.max) return `must be at most ${rule.max}.`;
      return undefined;
    case 'object':
      if (!isPlainObject(value)) return 'must be a JSON object.';
      return Object.keys(value).length === 0 ? 'may not be empty.' : rule.check?.(value);
    case 'string-list':
      if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) return 'must be an array of strings.';
      return value.some((item) => item.trim() === '') ? 'may not contain blank strings.' : undefined;
  }
}

/**
 * Picks the credential variant the body is closest to and reports what keeps
 * it from matching: fields of another variant mixed in, then required fields
 * that are missing.
 */
function variantErrors(shape: SecretShape, presentFields: string[]): ApiError[] {
  const variant = closestVariant(shape, presentFields);
  const allowed = allowedFields(variant);
  const alternatives = shape.filter((other) => other !== variant).map((other) => other.label);
  const orAlternatives = alternatives.length > 0 ? ` Alternatively, send only the fields of: ${alternatives.join('; ')}.` : '';

  const mixed = presentFields
    .filter((field) => !Object.hasOwn(allowed, field))
    .map((field) => invalid(fieldPointer(field), `'${field}' cannot be combined with the fields of ${variant.label}.`));
  const missing = Object.keys(variant.required)
    .filter((field) => !presentFields.includes(field))
    .map((field) => invalid(fieldPointer(field), `'${field}' is required for ${variant.label}.${orAlternatives}`));
  return [...mixed, ...missing];
}

/** The variant covering most of the fields sent, then holding most of its required fields; the first on a tie. */
function closestVariant(shape: SecretShape, presentFields: string[]): CredentialVariant {
  const score = (variant: CredentialVariant) => {
    const allowed = allowedFields(variant);
    const covered = presentFields.filter((field) => Object.hasOwn(allowed, field)).length;
    const uncovered = presentFields.length - covered;
    const requiredPresent = Object.keys(variant.required).filter((field) => presentFields.includes(field)).length;
    return { uncovered, requiredPresent };
  };
  let best = shape[0];
  let bestScore = score(best);
  for (const variant of shape.slice(1)) {
    const candidate = score(variant);
    if (
      candidate.uncovered < bestScore.uncovered ||
      (candidate.uncovered === bestScore.uncovered && candidate.requiredPresent > bestScore.requiredPresent)
    ) {
      best = variant;
      bestScore = candidate;
    }
  }
  return best;
}

/** Detaches the stored value from the request body so later mutation of either cannot leak into the other. */
function copyOf(value: unknown): unknown {
  return typeof value === 'object' && value !== null ? structuredClone(value) : value;
}

function fieldPointer(field: string): string {
  // JSON Pointer escaping (RFC 6901), for unknown fields with odd names.
  return `${SECRET_POINTER}/${field.replace(/~/g, '~0').replace(/\//g, '~1')}`;
}

function invalid(pointer: string, detail: string): ApiError {
  return ApiError.badRequest('invalid', detail, { pointer });
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
