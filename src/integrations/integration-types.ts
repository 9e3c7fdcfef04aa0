import { ApiError, ApiErrors } from '../common/errors/api-error';
import { isPlainObject } from '../common/jsonapi/request-body';
import { outboundUrlProblem } from './outbound-target';

export const INTEGRATION_TYPES = ['amazon_s3', 'aws_security_hub', 'jira', 'slack'] as const;
export type IntegrationType = (typeof INTEGRATION_TYPES)[number];

/** Static AWS keys: S3 and Security Hub calls are signed with them. */
export interface AwsCredentials {
  aws_access_key_id: string;
  aws_secret_access_key: string;
  aws_session_token?: string;
}

export interface JiraCredentials {
  user_mail: string;
  api_token: string;
  /** A Jira Cloud site name (`your-domain` of your-domain.atlassian.net); a loopback URL only under INTEGRATIONS_ALLOW_LOCAL_TARGETS. */
  domain: string;
}

export interface SlackCredentials {
  bot_token: string;
}

export interface S3Configuration {
  bucket_name: string;
  output_directory: string;
}

export interface SecurityHubConfiguration {
  send_only_fails: boolean;
  archive_previous_findings: boolean;
}

/** Filled by the connection check and `issue_types`, never by clients: Prowler's read-only Jira configuration. */
export interface JiraConfiguration {
  domain: string;
  projects: Record<string, string>;
  issue_types: Record<string, string[]>;
}

export interface SlackConfiguration {
  channel: string;
}

/** S3's bucket naming rules: 3-63 of a-z 0-9 . -, starting and ending with a letter or digit, no `..`, not an IPv4 address. */
const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
/** Prowler's Atlassian site name rule. */
const JIRA_SITE_NAME = /^[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$/;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
/** Slack channel ids (C…, G…, D…) or `#name`. */
const SLACK_CHANNEL = /^(?:[CGD][A-Z0-9]{6,20}|#[a-z0-9][a-z0-9._-]{0,79})$/;
const ACCESS_KEY_ID = /^[A-Z0-9]{16,128}$/;
const FORBIDDEN_DIRECTORY_CHARACTERS = /[<>:"|?*]/;

type Problems = ApiError[];

function problem(pointer: string, detail: string, code = 'invalid'): ApiError {
  return ApiError.badRequest(code, detail, { pointer });
}

function knownMembers(value: Record<string, unknown>, allowed: readonly string[], pointer: string, problems: Problems): void {
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) problems.push(problem(`${pointer}/${key}`, `Unknown member '${key}' for this integration type.`));
  }
}

function requiredString(value: Record<string, unknown>, key: string, pointer: string, problems: Problems): string | undefined {
  const field = value[key];
  if (field === undefined || field === null || field === '') {
    problems.push(problem(`${pointer}/${key}`, `'${key}' is required.`, 'required'));
    return undefined;
  }
  if (typeof field !== 'string') {
    problems.push(problem(`${pointer}/${key}`, `'${key}' must be a string.`));
    return undefined;
  }
  return field;
}

function optionalBoolean(value: Record<string, unknown>, key: string, pointer: string, problems: Problems): boolean {
  const field = value[key];
  if (field === undefined) return false;
  if (typeof field !== 'boolean') problems.push(problem(`${pointer}/${key}`, `'${key}' must be true or false.`));
  return field === true;
}

export function bucketNameProblem(name: string): string | undefined {
  if (!BUCKET_NAME.test(name) || name.includes('..') || /^\d+\.\d+\.\d+\.\d+$/.test(name) || name.startsWith('xn--') || name.endsWith('-s3alias')) {
    return 'is not a valid S3 bucket name (3-63 lowercase letters, digits, dots and hyphens, starting and ending with a letter or digit).';
  }
  return undefined;
}

/** Prowler's normalisation: slashes collapsed, `.` segments dropped, no leading or trailing slash; empty means `output`. */
export function normaliseOutputDirectory(raw: string): { value?: string; problem?: string } {
  if (raw.trim() === '') return { value: 'output' };
  if (FORBIDDEN_DIRECTORY_CHARACTERS.test(raw)) return { problem: 'contains invalid characters; avoid < > : " | ? *.' };
  const segments: string[] = [];
  for (const segment of raw.split('/')) {
    if (segment === '' || segment === '.') continue;
    // `..` would climb out of the directory the bucket owner chose; refused rather than resolved.
    if (segment === '..') return { problem: "may not contain '..' segments." };
    segments.push(segment);
  }
  const value = segments.join('/');
  if (value === '') return { problem: "cannot be empty or just '.' or '/'." };
  if (value.length > 900) return { problem: 'is too long (at most 900 characters).' };
  return { value };
}

/**
 * A Jira `domain` as a base URL: a site name becomes https://<site>.atlassian.net.
 * Under INTEGRATIONS_ALLOW_LOCAL_TARGETS a loopback http(s) URL is taken as
 * it is, so tests can point an integration at a local server.
 */
export function jiraBaseUrl(domain: string, allowLocal: boolean): { url?: string; problem?: string } {
  const site = domain.replace(/\.atlassian\.net$/i, '');
  if (JIRA_SITE_NAME.test(site)) return { url: `https://${site.toLowerCase()}.atlassian.net` };
  if (allowLocal && /^https?:\/\//i.test(domain)) {
    const problemText = outboundUrlProblem(domain, true);
    if (problemText) return { problem: problemText };
    return { url: domain.replace(/\/+$/, '') };
  }
  return { problem: "must be the Jira Cloud site name, e.g. 'your-domain' for your-domain.atlassian.net." };
}

function awsCredentials(value: Record<string, unknown>, problems: Problems): AwsCredentials {
  const pointer = '/data/attributes/credentials';
  const roleMembers = ['role_arn', 'external_id', 'role_session_name', 'session_duration'].filter((key) => key in value);
  if (roleMembers.length > 0) {
    // Role assumption needs STS, which this deployment does not ship; saying so beats storing credentials that cannot work.
    problems.push(problem(`${pointer}/${roleMembers[0]}`, 'Role assumption is not supported; give static keys (aws_access_key_id, aws_secret_access_key).'));
    return value as unknown as AwsCredentials;
  }
  knownMembers(value, ['aws_access_key_id', 'aws_secret_access_key', 'aws_session_token'], pointer, problems);
  const keyId = requiredString(value, 'aws_access_key_id', pointer, problems);
  if (keyId !== undefined && !ACCESS_KEY_ID.test(keyId)) problems.push(problem(`${pointer}/aws_access_key_id`, "'aws_access_key_id' is not an AWS access key id."));
  requiredString(value, 'aws_secret_access_key', pointer, problems);
  if (value.aws_session_token !== undefined && typeof value.aws_session_token !== 'string') {
    problems.push(problem(`${pointer}/aws_session_token`, "'aws_session_token' must be a string."));
  }
  return value as unknown as AwsCredentials;
}

export interface ValidatedSettings {
  configuration: Record<string, unknown>;
  credentials: Record<string, unknown>;
}

/**
 * Checks an integration's `configuration` and `credentials` for its type and
 * answers them normalised (defaults filled in). Every problem is reported at
 * once, each with a pointer; details name fields, never credential values.
 */
export function validateSettings(type: IntegrationType, configuration: unknown, credentials: unknown, allowLocal: boolean): ValidatedSettings {
  const problems: Problems = [];
  const configPointer = '/data/attributes/configuration';
  const credentialsPointer = '/data/attributes/credentials';
  if (!isPlainObject(configuration)) throw new ApiErrors([problem(configPointer, 'configuration must be an object.')]);
  if (!isPlainObject(credentials)) throw new ApiErrors([problem(credentialsPointer, 'credentials must be an object.')]);
  let normalised: Record<string, unknown> = {};
  switch (type) {
    case 'amazon_s3': {
      knownMembers(configuration, ['bucket_name', 'output_directory'], configPointer, problems);
      const bucket = requiredString(configuration, 'bucket_name', configPointer, problems);
      const bucketProblem = bucket === undefined ? undefined : bucketNameProblem(bucket);
      if (bucketProblem) problems.push(problem(`${configPointer}/bucket_name`, `bucket_name ${bucketProblem}`));
      let directory = 'output';
      if (configuration.output_directory !== undefined) {
        if (typeof configuration.output_directory !== 'string') problems.push(problem(`${configPointer}/output_directory`, "'output_directory' must be a string."));
        else {
          const result = normaliseOutputDirectory(configuration.output_directory);
          if (result.problem) problems.push(problem(`${configPointer}/output_directory`, `output_directory ${result.problem}`));
          directory = result.value ?? directory;
        }
      }
      normalised = { bucket_name: bucket, output_directory: directory } satisfies Partial<S3Configuration>;
      awsCredentials(credentials, problems);
      break;
    }
    case 'aws_security_hub': {
      knownMembers(configuration, ['send_only_fails', 'archive_previous_findings'], configPointer, problems);
      normalised = {
        send_only_fails: optionalBoolean(configuration, 'send_only_fails', configPointer, problems),
        archive_previous_findings: optionalBoolean(configuration, 'archive_previous_findings', configPointer, problems),
      } satisfies SecurityHubConfiguration;
      awsCredentials(credentials, problems);
      break;
    }
    case 'jira': {
      // The contract: a Jira integration takes no configuration; its domain, projects and issue types are ours to fill.
      if (Object.keys(configuration).length > 0) problems.push(problem(configPointer, 'A Jira integration takes no configuration; send {}.'));
      knownMembers(credentials, ['user_mail', 'api_token', 'domain'], credentialsPointer, problems);
      const mail = requiredString(credentials, 'user_mail', credentialsPointer, problems);
      if (mail !== undefined && !EMAIL.test(mail)) problems.push(problem(`${credentialsPointer}/user_mail`, "'user_mail' must be an email address."));
      requiredString(credentials, 'api_token', credentialsPointer, problems);
      const domain = requiredString(credentials, 'domain', credentialsPointer, problems);
      if (domain !== undefined) {
        const base = jiraBaseUrl(domain, allowLocal);
        if (base.problem) problems.push(problem(`${credentialsPointer}/domain`, `domain ${base.problem}`));
      }
      normalised = { domain: domain ?? '', projects: {}, issue_types: {} } satisfies JiraConfiguration;
      break;
    }
    case 'slack': {
      knownMembers(configuration, ['channel'], configPointer, problems);
      const channel = requiredString(configuration, 'channel', configPointer, problems);
      if (channel !== undefined && !SLACK_CHANNEL.test(channel)) {
        problems.push(problem(`${configPointer}/channel`, "'channel' must be a Slack channel id (e.g. C0123456789) or '#name'."));
      }
      normalised = { channel } satisfies Partial<SlackConfiguration>;
      knownMembers(credentials, ['bot_token'], credentialsPointer, problems);
      const token = requiredString(credentials, 'bot_token', credentialsPointer, problems);
      if (token !== undefined && !/^xoxb-[A-Za-z0-9-]{10,250}$/.test(token)) {
        problems.push(problem(`${credentialsPointer}/bot_token`, "'bot_token' must be a Slack bot token (xoxb-…)."));
      }
      break;
    }
  }
  if (problems.length > 0) throw new ApiErrors(problems);
  return { configuration: normalised, credentials };
}
