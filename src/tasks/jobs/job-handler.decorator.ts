import { DiscoveryService } from '@nestjs/core';
import { JobArguments, JobName } from './job-definitions';
import { JobProcessor } from './job-context';

/** Marks a provider as the processor of one job; the registry finds them all at start. */
export const JobHandler = DiscoveryService.createDecorator<JobName>();

export interface JobHandlerInstance<N extends JobName = JobName> {
  readonly processor: JobProcessor<JobArguments[N]>;
}
