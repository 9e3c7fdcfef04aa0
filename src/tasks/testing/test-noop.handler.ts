import { Injectable } from '@nestjs/common';
import { JobArguments } from '../jobs/job-definitions';
import { JobHandler, JobHandlerInstance } from '../jobs/job-handler.decorator';
import { tenantJob } from '../jobs/tenant-job.wrapper';

/** Test-only (TEST_JOBS=true): nothing but the tenant wrapper; `started_at` lets the queue benchmark time the path to it. */
@JobHandler('test-noop')
@Injectable()
export class TestNoopHandler implements JobHandlerInstance<'test-noop'> {
  readonly processor = tenantJob<JobArguments['test-noop'], unknown>(async () => ({ started_at: Date.now() }));
}
