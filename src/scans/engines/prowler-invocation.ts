import { ScanTarget } from '../../tasks/scans/scan-engine';

/** The file name Prowler is told to write its output under (it appends `.ocsf.json`). */
export const PROWLER_OUTPUT_NAME = 'scan';

/**
 * The prefix of the environment variables a provider's credentials become.
 * Prowler reads AWS_*, AZURE_* (with --sp-env-auth) and GITHUB_* variables;
 * the other providers follow the same pattern with their own name.
 */
const ENVIRONMENT_PREFIX: Record<string, string> = { aws: 'AWS_', azure: 'AZURE_', m365: 'AZURE_', github: 'GITHUB_', gcp: 'GOOGLE_' };

/** Flags that tell Prowler to take its credentials from the environment, where it needs telling. */
const ENVIRONMENT_AUTH_FLAGS: Record<string, string[]> = { azure: ['--sp-env-auth'], m365: ['--sp-env-auth'] };

/**
 * Secret fields that cloud SDKs read from a file named by a standard variable
 * (the Google SDKs, the Kubernetes client): they are written into the run's
 * private directory and the variable points at the file.
 */
const CREDENTIAL_FILES: Record<string, Record<string, { file: string; variable: string }>> = {
  gcp: { service_account_key: { file: 'gcp-service-account.json', variable: 'GOOGLE_APPLICATION_CREDENTIALS' } },
  kubernetes: { kubeconfig_content: { file: 'kubeconfig', variable: 'KUBECONFIG' } },
};

/**
 * Role-assumption settings Prowler takes only as flags, not from the
 * environment. None is a secret: an ARN names the role, and AWS documents the
 * external id as an identifier against confused deputies, not a credential;
 * the keys that do the assuming stay in the environment.
 */
const FLAG_FIELDS: Record<string, Record<string, string>> = {
  aws: { role_arn: '--role', external_id: '--external-id', role_session_name: '--role-session-name', session_duration: '--session-duration' },
};

export interface CredentialFile {
  file: string;
  variable: string;
  content: string;
}

/** The secret's fields that go to Prowler as files (see CREDENTIAL_FILES). */
export function credentialFiles(provider: string, credentials: Record<string, unknown>): CredentialFile[] {
  return Object.entries(CREDENTIAL_FILES[provider] ?? {})
    .filter(([field]) => credentials[field] !== undefined && credentials[field] !== null)
    .map(([field, target]) => ({ ...target, content: textOf(credentials[field]) }));
}

/**
 * The other fields as environment variables: `<PREFIX><FIELD>` upper-cased
 * (aws_access_key_id becomes AWS_ACCESS_KEY_ID, client_secret of Azure
 * AZURE_CLIENT_SECRET); object values as JSON.
 */
export function credentialEnvironment(provider: string, credentials: Record<string, unknown>): Record<string, string> {
  const prefix = ENVIRONMENT_PREFIX[provider] ?? `${provider.toUpperCase()}_`;
  const asFiles = CREDENTIAL_FILES[provider] ?? {};
  const asFlags = FLAG_FIELDS[provider] ?? {};
  const environment: Record<string, string> = {};
  for (const [field, value] of Object.entries(credentials)) {
    if (value === null || value === undefined || field in asFiles || field in asFlags) continue;
    const name = field.toUpperCase().replace(/[^A-Z0-9_]/g, '_');
    environment[name.startsWith(prefix) ? name : `${prefix}${name}`] = textOf(value);
  }
  return environment;
}

function textOf(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** The command line: the provider, its role-assumption flags, where to write JSON-OCSF, and nothing secret. */
export function prowlerArguments(target: ScanTarget, outputDirectory: string, credentials: Record<string, unknown> = {}): string[] {
  const roleFlags = Object.entries(FLAG_FIELDS[target.provider] ?? {})
    .filter(([field]) => credentials[field] !== undefined && credentials[field] !== null)
    .flatMap(([field, flag]) => [flag, textOf(credentials[field])]);
  return [
    target.provider,
    ...(ENVIRONMENT_AUTH_FLAGS[target.provider] ?? []),
    ...roleFlags,
    '--output-formats', 'json-ocsf',
    '--output-directory', outputDirectory,
    '--output-filename', PROWLER_OUTPUT_NAME,
    // Prowler exits with 3 when a check fails; for a scan that is a result, not an error.
    '--ignore-exit-code-3',
  ];
}
