import type { Permission } from '../../rbac/permissions';
import { QueueName } from '../queue-names';

/**
 * Every job's arguments, keyed by job name. The tenant travels beside them
 * (JobData.tenantId) and reaches a job body only when its handler asks for it.
 */
export interface JobArguments {
  'scan-perform': { scanId: string; providerId: string };
  /** Ingests an uploaded Prowler OCSF file (`uploadId` in the import spool) as the scan's results. */
  'scan-import': { scanId: string; providerId: string; uploadId: string };
  /**
   * Findings the Prowler CLI pushed (`uploadId` in the import spool): finds or creates their provider
   * as the user whose API key pushed them, then starts a `scan-import` of the file.
   */
  'scan-ingestion': { uploadId: string; userId: string };
  /** Fills the overview summaries of a completed scan (a step of AFTER_SCAN_WORKFLOW). */
  'scan-overview': { scanId: string; providerId: string };
  /** Fired by a provider's daily BullMQ job scheduler; it starts a scan the way a manual request does. */
  'scan-perform-scheduled': { providerId: string };
  'provider-deletion': { providerId: string };
  'tenant-deletion': Record<string, never>;
  'provider-connection-check': { providerId: string };
  /** After a scan: its per-framework, per-requirement compliance figures. */
  'scan-compliance': { scanId: string; providerId: string };
  /** After a scan: its report zip (CSV, JSON-OCSF, HTML). */
  'scan-report': { scanId: string; providerId: string };
  /** After a scan: each enabled integration linked to its provider (S3, Security Hub, Slack), once per scan. */
  'scan-integrations': { scanId: string; providerId: string };
  /** `POST /integrations/{id}/connection`: checks the integration against its target and records the answer. */
  'integration-connection-check': { integrationId: string };
  /** `POST /integrations/{id}/jira/dispatches`: one Jira issue per finding. */
  'integration-jira-dispatch': { integrationId: string; projectKey: string; issueType: string; findingIds: string[] };
  /** After the tenant's Mutelist changed: its latest findings muted or unmuted to match it. */
  'mutelist-backfill': Record<string, never>;
  /** Fired daily by a BullMQ job scheduler (no tenant, no task row): removes report files past REPORT_RETENTION_DAYS. */
  'scan-report-retention': Record<string, never>;
  /**
   * Fired daily by a BullMQ job scheduler: keeps the coming months' partitions of findings created.
   * A system job: it acts for no tenant, so its envelope's tenantId is empty and it has no task row.
   */
  'finding-partitions': Record<string, never>;
  /** Test-only (TEST_JOBS=true): reports what it sees, writes rows step by step, honours or ignores its signal. */
  'test-probe': ProbeArguments;
  /** Test-only (TEST_JOBS=true): does nothing; the queue benchmark measures the path around it. */
  'test-noop': { enqueuedAt: number };
}

export interface ProbeArguments {
  providerId: string;
  steps: number;
  stepMs: number;
  /** Sleeps through its signal, to exercise the hard time limit. */
  ignoreSignal?: boolean;
  /** Fails with a transient error on attempts up to this one (1-based), to exercise retries. */
  failTransientlyUntilAttempt?: number;
  /** Fails with an ordinary error, which is never retried. */
  failPermanently?: boolean;
}

export type JobName = keyof JobArguments;

/** A job request as features build it: the name decides the shape of the arguments. */
export type JobRequest = { [N in JobName]: { name: N; args: JobArguments[N] } }[JobName];

/** What BullMQ stores for a job. taskId is null for jobs no task row tracks (scheduler ticks). */
export interface JobData<N extends JobName = JobName> {
  tenantId: string;
  taskId: string | null;
  args: JobArguments[N];
}

export interface JobDefinition {
  queue: QueueName;
  /** Attempts in all, the first included; only transient errors use the later ones. */
  attempts: number;
  /** soft: the body's AbortSignal fires; hard: the job fails and the worker moves on. */
  timeLimit: { softMs: number; hardMs: number };
  /** Cancelling a task needs the permission that starts it; null for test-only jobs. */
  cancelPermission: Permission | null;
  /** A job that acts for no tenant (scheduler ticks): its handler runs outside the tenant wrapper. */
  system?: true;
  testOnly?: boolean;
}

const MINUTE = 60 * 1000;
const HOUR = 60 * MINUTE;

export const JOB_DEFINITIONS: Record<JobName, JobDefinition> = {
  'scan-perform': { queue: 'scans', attempts: 3, timeLimit: { softMs: 6 * HOUR, hardMs: 6 * HOUR + 10 * MINUTE }, cancelPermission: 'manage_scans' },
  'scan-import': { queue: 'scans', attempts: 3, timeLimit: { softMs: 6 * HOUR, hardMs: 6 * HOUR + 10 * MINUTE }, cancelPermission: 'manage_scans' },
  'scan-ingestion': { queue: 'scans', attempts: 3, timeLimit: { softMs: HOUR, hardMs: HOUR + 10 * MINUTE }, cancelPermission: 'manage_scans' },
  'scan-overview': { queue: 'overview', attempts: 3, timeLimit: { softMs: 30 * MINUTE, hardMs: 35 * MINUTE }, cancelPermission: 'manage_scans' },
  'scan-perform-scheduled': { queue: 'scans', attempts: 3, timeLimit: { softMs: MINUTE, hardMs: 2 * MINUTE }, cancelPermission: 'manage_scans' },
  'provider-deletion': { queue: 'deletion', attempts: 5, timeLimit: { softMs: 2 * HOUR, hardMs: 2 * HOUR + 10 * MINUTE }, cancelPermission: 'manage_providers' },
  'tenant-deletion': { queue: 'deletion', attempts: 5, timeLimit: { softMs: 6 * HOUR, hardMs: 6 * HOUR + 10 * MINUTE }, cancelPermission: 'manage_account' },
  'provider-connection-check': { queue: 'integrations', attempts: 3, timeLimit: { softMs: MINUTE, hardMs: 90 * 1000 }, cancelPermission: 'manage_providers' },
  'scan-compliance': { queue: 'compliance', attempts: 3, timeLimit: { softMs: 30 * MINUTE, hardMs: 35 * MINUTE }, cancelPermission: 'manage_scans' },
  'scan-report': { queue: 'scan-reports', attempts: 3, timeLimit: { softMs: 2 * HOUR, hardMs: 2 * HOUR + 10 * MINUTE }, cancelPermission: 'manage_scans' },
  // Five attempts: an S3 upload waits (with backoff) for the scan's report when the report job has not published it yet.
  'scan-integrations': { queue: 'integrations', attempts: 5, timeLimit: { softMs: HOUR, hardMs: HOUR + 5 * MINUTE }, cancelPermission: 'manage_integrations' },
  'integration-connection-check': { queue: 'integrations', attempts: 3, timeLimit: { softMs: 2 * MINUTE, hardMs: 3 * MINUTE }, cancelPermission: 'manage_integrations' },
  'integration-jira-dispatch': { queue: 'integrations', attempts: 3, timeLimit: { softMs: 30 * MINUTE, hardMs: 35 * MINUTE }, cancelPermission: 'manage_integrations' },
  'mutelist-backfill': { queue: 'backfill', attempts: 3, timeLimit: { softMs: HOUR, hardMs: HOUR + 10 * MINUTE }, cancelPermission: 'manage_account' },
  'scan-report-retention': { queue: 'scan-reports', attempts: 3, timeLimit: { softMs: 10 * MINUTE, hardMs: 15 * MINUTE }, cancelPermission: null, system: true },
  'finding-partitions': { queue: 'backfill', attempts: 3, timeLimit: { softMs: 5 * MINUTE, hardMs: 6 * MINUTE }, cancelPermission: null, system: true },
  // Limits with room for a few seconds of steps on a busy machine; the time-limit test sleeps past them.
  'test-probe': { queue: 'backfill', attempts: 3, timeLimit: { softMs: 5000, hardMs: 7000 }, cancelPermission: null, testOnly: true },
  'test-noop': { queue: 'backfill', attempts: 1, timeLimit: { softMs: 5000, hardMs: 10000 }, cancelPermission: null, testOnly: true },
};

export const JOB_NAMES = Object.keys(JOB_DEFINITIONS) as JobName[];
