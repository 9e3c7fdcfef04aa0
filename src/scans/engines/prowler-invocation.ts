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
 * A secret's fields as environment variables: `<PREFIX><FIELD>` upper-cased
 * (aws_access_key_id becomes AWS_ACCESS_KEY_ID, client_secret of Azure
 * AZURE_CLIENT_SECRET); object values (a service account key) as JSON.
 */
export function credentialEnvironment(provider: string, credentials: Record<string, unknown>): Record<string, string> {
  const prefix = ENVIRONMENT_PREFIX[provider] ?? `${provider.toUpperCase()}_`;
  const environment: Record<string, string> = {};
  for (const [field, value] of Object.entries(credentials)) {
    if (value === null || value === undefined) continue;
    const name = field.toUpperCase().replace(/[^A-Z0-9_]/g, '_');
    environment[name.startsWith(prefix) ? name : `${prefix}${name}`] = typeof value === 'string' ? value : JSON.stringify(value);
  }
  return environment;
}

/** The command line: the provider, where to write JSON-OCSF, and nothing secret. */
export function prowlerArguments(target: ScanTarget, outputDirectory: string): string[] {
  return [
    target.provider,
    ...(ENVIRONMENT_AUTH_FLAGS[target.provider] ?? []),
    '--output-formats', 'json-ocsf',
    '--output-directory', outputDirectory,
    '--output-filename', PROWLER_OUTPUT_NAME,
    // Prowler exits with 3 when a check fails; for a scan that is a result, not an error.
    '--ignore-exit-code-3',
  ];
}
