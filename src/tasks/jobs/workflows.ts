import { JOB_DEFINITIONS, JobName } from './job-definitions';

/**
 * A workflow: stages run one after the other (a chain), the jobs of a stage
 * side by side (a group). Each job of a stage waits for every job of the
 * stage before it. A name that is not (yet) a job definition is left out, so
 * a step can be declared before the feature that runs it exists.
 */
export type WorkflowStages = readonly (readonly string[])[];

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

/** The declared stages with the jobs this build defines; empty stages go, the chain closes up around them. */
export function enabledStages(stages: WorkflowStages): JobName[][] {
  return stages
    .map((stage) => stage.filter((name): name is JobName => Object.hasOwn(JOB_DEFINITIONS, name)))
    .filter((stage) => stage.length > 0);
}
