import { JobName } from './job-definitions';

/**
 * The follow-up jobs a finished scan starts, each with `{ scanId, providerId }`
 * as its arguments: one per follow-up queue (overview, compliance, reports,
 * integrations). Each feature adds its own job here beside its definition and
 * handler. `scan-integrations` starts beside the report for now: its S3
 * upload retries with backoff until the report is published.
 */
export const AFTER_SCAN_JOBS: readonly JobName[] = ['scan-overview', 'scan-compliance', 'scan-report', 'scan-integrations'];
