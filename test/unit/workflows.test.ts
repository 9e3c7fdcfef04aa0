import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { JOB_DEFINITIONS } from '../../src/tasks/jobs/job-definitions';
import { AFTER_SCAN_WORKFLOW, enabledStages } from '../../src/tasks/jobs/workflows';

describe('declared workflows', () => {
  it('leave out names that are no job definition, and close the chain up around an emptied stage', () => {
    assert.deepEqual(enabledStages([['scan-overview', 'not-a-job'], ['not-a-job'], ['scan-report']]), [['scan-overview'], ['scan-report']]);
    assert.deepEqual(enabledStages([['not-a-job']]), []);
  });

  it('after a scan: the aggregations first, the report after them, every enabled step a job of this build', () => {
    const stages = enabledStages(AFTER_SCAN_WORKFLOW);
    assert.deepEqual(stages[0], ['scan-overview', 'scan-compliance']);
    assert.deepEqual(stages[1], ['scan-report']);
    for (const name of stages.flat()) assert.ok(Object.hasOwn(JOB_DEFINITIONS, name) && !JOB_DEFINITIONS[name].system, `${name} is a tenant job`);
    // Integrations come last once their job exists.
    const integrations = stages.findIndex((stage) => stage.includes('scan-integrations' as never));
    assert.ok(integrations === -1 || integrations === stages.length - 1);
  });
});
