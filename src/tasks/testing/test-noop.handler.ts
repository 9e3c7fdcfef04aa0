import { Injectable } from '@nestjs/common';
import { JobArguments } from '../jobs/job-definitions';
import { JobHandler } from '../jobs/job-handler.decorator';
import { TenantJob } from '../jobs/tenant-job.wrapper';

/** Test-only (TEST_JOBS=true): nothing but the tenant wrapper; `started_at` lets the queue benchmark time the path to it. */
@JobHandler('test-noop')
@Injectable()
export class TestNoopHandler {
  @TenantJob()
  async process(_args: JobArguments['test-noop']): Promise<unknown> {
    return { started_at: Date.now() };
  }
}
