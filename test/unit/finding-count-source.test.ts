import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ParsedFilter } from '../../src/common/jsonapi/query-spec';
import { countSource, FindingSelection } from '../../src/findings/finding-selection';
import { SqlConditions } from '../../src/findings/query/sql-conditions';
import { ScanRange } from '../../src/findings/scans/scan-ranges';

function selection(filters: ParsedFilter[], scans: ScanRange[] | null = null, external = false): FindingSelection {
  const conditions = new SqlConditions();
  if (external) conditions.addBound({ sql: 'f.region = $1', params: ['eu-west-1'] }, 0);
  return { conditions, scans, filters };
}

const scan = (aggregated: boolean): ScanRange => ({ scanId: 'a', providerId: 'b', startedAt: new Date(), aggregated });

/**
 * Which table answers a page-number count: the running totals for the
 * filters they carry, a scan's summaries for scan-restricted reads once the
 * scan is aggregated, and otherwise a capped count of the rows.
 */
describe('the source of a findings count', () => {
  it('takes the running totals for provider, status, severity, delta and muted filters', () => {
    assert.equal(countSource(selection([])), 'totals');
    assert.equal(countSource(selection([{ field: 'severity', operator: 'in', value: ['critical', 'high'] }, { field: 'status', operator: 'eq', value: 'FAIL' }])), 'totals');
    assert.equal(countSource(selection([{ field: 'provider_type', operator: 'eq', value: 'aws' }, { field: 'muted', operator: 'eq', value: false }])), 'totals');
  });

  it('takes the scan summaries for scan-restricted reads of aggregated scans, with the summary columns', () => {
    const filters: ParsedFilter[] = [{ field: 'service', operator: 'in', value: ['ec2'] }];
    assert.equal(countSource(selection(filters, [scan(true)])), 'summaries');
    assert.equal(countSource(selection(filters, [scan(true), scan(false)])), null, 'a scan still being ingested is counted row by row');
    assert.equal(countSource(selection(filters)), null, 'the totals have no service column');
  });

  it('counts rows (capped) for filters no summary holds, and under row filter rules', () => {
    assert.equal(countSource(selection([{ field: 'uid', operator: 'eq', value: 'x' }])), null);
    assert.equal(countSource(selection([{ field: 'inserted_at', operator: 'gte', value: new Date() }])), null);
    assert.equal(countSource(selection([{ field: 'resource_uid', operator: 'eq', value: 'arn' }])), null);
    assert.equal(countSource(selection([], null, true)), null);
  });
});
