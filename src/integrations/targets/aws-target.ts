import { IntegrationsConfig } from '../../config/app-config';
import { errorForFailure, errorForStatus, IntegrationRefusedError } from '../integration-errors';
import { AwsCredentials } from '../integration-types';

/** What every AWS SDK client of an integration is built with. */
export function awsClientSettings(credentials: AwsCredentials, config: IntegrationsConfig, region: string, endpoint: string) {
  return {
    region,
    credentials: {
      accessKeyId: credentials.aws_access_key_id,
      secretAccessKey: credentials.aws_secret_access_key,
      ...(credentials.aws_session_token ? { sessionToken: credentials.aws_session_token } : {}),
    },
    // The operator's endpoint (an S3-compatible store, a VPC endpoint); AWS's own when empty.
    ...(endpoint ? { endpoint } : {}),
    // A target that hangs is cut off; the SDK's own retries are off, the job's backoff retries instead.
    requestHandler: { connectionTimeout: config.requestTimeoutMs, requestTimeout: config.requestTimeoutMs },
    maxAttempts: 1,
  };
}

const PERMANENT_AWS_ERRORS = new Set([
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'AccessDenied',
  'AccessDeniedException',
  'UnrecognizedClientException',
  'InvalidSignatureException',
  'NoSuchBucket',
  'InvalidAccessException',
  'InvalidInputException',
  'ExpiredToken',
  'ExpiredTokenException',
]);

/** An SDK error as the job sees it: refused for good (credentials, a missing bucket) or worth another try. */
export function awsError(target: string, error: unknown, signal: AbortSignal): Error {
  const sdk = error as { name?: string; $metadata?: { httpStatusCode?: number }; message?: string };
  const status = sdk?.$metadata?.httpStatusCode;
  if (sdk?.name && PERMANENT_AWS_ERRORS.has(sdk.name)) {
    return new IntegrationRefusedError(`${target} refused the request (${sdk.name}${status ? `, HTTP ${status}` : ''}).`);
  }
  if (typeof status === 'number' && status >= 400) return errorForStatus(target, status, sdk.name);
  return errorForFailure(target, error, signal);
}
