import { JobName } from './job-definitions';

/**
 * A workflow: stages run one after the other (a chain), the jobs of a stage
 * side by side (a group). Each job of a stage waits for every job of the
 * stage before it.
 */
export type WorkflowStages = readonly (readonly JobName[])[];

/**
 * What runs after a scan's ingestion, each step a task with the scan in its
 * task_args: the aggregations together (overview summaries, compliance
 * figures), then the reports built from them, then the integrations, which
 * send those reports. A failed step stops only the steps after it.
 */
export const AFTER_SCAN_WORKFLOW: WorkflowStages = [
  ['scan-overview', 'scan-compliance'],
  ['scan-report'],
  ['scan-integrations'],
];

