import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { JOB_DEFINITIONS } from '../../src/tasks/jobs/job-definitions';
import { AFTER_SCAN_WORKFLOW } from '../../src/tasks/jobs/workflows';

describe('declared workflows', () => {
  it('after a scan: the aggregations first, the report after them, the integrations last, every step a tenant job', () => {
    assert.deepEqual(AFTER_SCAN_WORKFLOW[0], ['scan-overview', 'scan-compliance']);
    assert.deepEqual(AFTER_SCAN_WORKFLOW[1], ['scan-report']);
    assert.deepEqual(AFTER_SCAN_WORKFLOW.at(-1), ['scan-integrations']);
    for (const name of AFTER_SCAN_WORKFLOW.flat()) assert.ok(!JOB_DEFINITIONS[name].system, `${name} is a tenant job`);
  });
});
