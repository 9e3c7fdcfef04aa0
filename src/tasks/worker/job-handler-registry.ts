import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import { AppConfig } from '../../config/app-config';
import { APP_CONFIG } from '../../config/config.module';
import { QueueName } from '../queue-names';
import { JOB_DEFINITIONS, JOB_NAMES, JobName } from '../jobs/job-definitions';
import { JobHandler, JobHandlerInstance } from '../jobs/job-handler.decorator';

/**
 * Every job name mapped to exactly one processor, checked when the module
 * starts: a job with no handler or with two stops the process instead of
 * leaving jobs to fail at run time. Test-only jobs count only under TEST_JOBS.
 */
@Injectable()
export class JobHandlerRegistry implements OnModuleInit {
  private readonly handlers = new Map<JobName, JobHandlerInstance>();

  constructor(
    private readonly discovery: DiscoveryService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    const found = new Map<JobName, JobHandlerInstance[]>();
    for (const wrapper of this.discovery.getProviders({ metadataKey: JobHandler.KEY })) {
      const name = this.discovery.getMetadataByDecorator(JobHandler, wrapper);
      if (!name || !wrapper.instance) continue;
      found.set(name, [...(found.get(name) ?? []), wrapper.instance as JobHandlerInstance]);
    }
    this.register(found);
  }

  /** Separate from discovery so the rules can be exercised directly. */
  register(found: ReadonlyMap<JobName, JobHandlerInstance[]>): void {
    const problems: string[] = [];
    for (const name of JOB_NAMES) {
      const expected = !JOB_DEFINITIONS[name].testOnly || this.config.tasks.testJobs;
      const instances = found.get(name) ?? [];
      if (!expected) continue;
      if (instances.length === 0) problems.push(`job '${name}' has no handler`);
      else if (instances.length > 1) problems.push(`job '${name}' has ${instances.length} handlers`);
      else if (typeof instances[0].processor !== 'function') problems.push(`the handler of job '${name}' has no processor`);
      else this.handlers.set(name, instances[0]);
    }
    for (const name of found.keys()) {
      if (!JOB_NAMES.includes(name)) problems.push(`a handler names the unknown job '${name}'`);
    }
    if (problems.length > 0) throw new Error(`Job handlers are wrong: ${problems.join('; ')}`);
  }

  handlerFor(name: string): JobHandlerInstance | undefined {
    return this.handlers.get(name as JobName);
  }

  /** The queues that have at least one job to process in this process, among those WORKER_QUEUES names. */
  queuesInUse(): QueueName[] {
    const queues = new Set([...this.handlers.keys()].map((name) => JOB_DEFINITIONS[name].queue));
    return this.config.workers.queues.filter((queue) => queues.has(queue));
  }
}
