import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import { AppConfig } from '../../config/app-config';
import { APP_CONFIG } from '../../config/config.module';
import { JOB_DEFINITIONS, JOB_NAMES, JobName } from '../jobs/job-definitions';
import { JobProcessor } from '../jobs/job-context';
import { JobHandler } from '../jobs/job-handler.decorator';
import { isTenantBound } from '../jobs/tenant-job.wrapper';

/**
 * Every job name mapped to exactly one handler, checked when the module
 * starts: a job with no handler or with two, or a tenant job whose handler
 * does not run under @TenantJob (or a system job's that does), stops the
 * process instead of leaving jobs to fail at run time. Test-only jobs count
 * only under TEST_JOBS. The queue processors dispatch through it by job name.
 */
@Injectable()
export class JobHandlerRegistry implements OnModuleInit {
  private readonly processors = new Map<JobName, JobProcessor<unknown>>();

  constructor(
    private readonly discovery: DiscoveryService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    const found = new Map<JobName, object[]>();
    for (const wrapper of this.discovery.getProviders({ metadataKey: JobHandler.KEY })) {
      const name = this.discovery.getMetadataByDecorator(JobHandler, wrapper);
      if (!name || !wrapper.instance) continue;
      found.set(name, [...(found.get(name) ?? []), wrapper.instance as object]);
    }
    this.register(found);
  }

  /** Separate from discovery so the rules can be exercised directly. */
  register(found: ReadonlyMap<JobName, object[]>): void {
    const problems: string[] = [];
    for (const name of JOB_NAMES) {
      const definition = JOB_DEFINITIONS[name];
      if (definition.testOnly && !this.config.tasks.testJobs) continue;
      const instances = found.get(name) ?? [];
      const process = (instances[0] as { process?: unknown } | undefined)?.process;
      if (instances.length === 0) problems.push(`job '${name}' has no handler`);
      else if (instances.length > 1) problems.push(`job '${name}' has ${instances.length} handlers`);
      else if (typeof process !== 'function') problems.push(`the handler of job '${name}' has no process method`);
      else if (!definition.system && !isTenantBound(process)) problems.push(`the handler of job '${name}' does not run under @TenantJob`);
      else if (definition.system && isTenantBound(process)) problems.push(`the handler of system job '${name}' runs under @TenantJob, which needs a tenant`);
      else this.processors.set(name, (process as JobProcessor<unknown>).bind(instances[0]));
    }
    for (const name of found.keys()) {
      if (!JOB_NAMES.includes(name)) problems.push(`a handler names the unknown job '${name}'`);
    }
    if (problems.length > 0) throw new Error(`Job handlers are wrong: ${problems.join('; ')}`);
  }

  processorFor(name: string): JobProcessor<unknown> | undefined {
    return this.processors.get(name as JobName);
  }
}
