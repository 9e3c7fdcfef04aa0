import { DiscoveryService } from '@nestjs/core';
import { JobArguments, JobName } from './job-definitions';
import { JobProcessor } from './job-context';

/**
 * Marks a provider as the handler of one job; the registry finds them all at
 * start. Its `process` method is the job's processor: a tenant job's body
 * under @TenantJob (which gives it the processor's signature), or, for a
 * system job, a JobProcessor as written.
 */
export const JobHandler = DiscoveryService.createDecorator<JobName>();

/** A handler as the queue processor calls it, once its decorators have applied. */
export interface JobHandlerInstance<N extends JobName = JobName> {
  readonly process: JobProcessor<JobArguments[N]>;
}
