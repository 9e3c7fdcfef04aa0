import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { IngestionRecord } from '../../src/findings/ingestion/ingestion-record';
import { StageEncoder } from '../../src/findings/ingestion/staging-tables';

function record(uid: string, checkId: string, compliance: Record<string, string[]>): IngestionRecord {
  return {
    uid,
    checkId,
    checkTitle: 'title',
    status: 'FAIL',
    statusExtended: 'fails',
    severity: 'low',
    muted: false,
    region: 'eu-west-1',
    service: 'ec2',
    resourceType: 'AwsEc2Instance',
    resources: [],
    compliance,
  };
}

/** Each staged finding's compliance map, looked up as the findings statement does: the batch's array at the row's compliance_key. */
function stagedCompliance(encoder: StageEncoder): { maps: unknown[]; byUid: Map<string, unknown> } {
  const payload = encoder.cut();
  const maps = JSON.parse(payload.compliances) as unknown[];
  const byUid = new Map<string, unknown>();
  for (const row of payload.findings.toString().split('\n').filter(Boolean)) {
    const fields = row.split('\t');
    byUid.set(fields[1], maps[Number(fields[fields.length - 1])]);
  }
  return { maps, byUid };
}

describe('StageEncoder compliance maps', () => {
  it("gives every finding its own map when a check's findings differ, and one entry to maps that are the same", () => {
    const encoder = new StageEncoder(Date.UTC(2026, 0, 1), '01900000-0000-7000-8000-000000000002');
    // Fresh objects each time, as every parsed record has: equal ones must still share an entry.
    const variants: Array<Record<string, string[]>> = [
      { 'CIS-2.0': ['1.1', '1.2'], 'ISO27001-2013': ['A.9'] },
      { 'CIS-2.0': ['1.1', '1.2'], 'ISO27001-2013': ['A.9'] },
      { 'ISO27001-2013': ['A.9'], 'CIS-2.0': ['1.1', '1.2'] },
      { 'CIS-2.0': ['1.1', '1.3'], 'ISO27001-2013': ['A.9'] },
      { 'CIS-2.0': ['1.1'], 'ISO27001-2013': ['A.9'] },
      { 'CIS-2.0': ['1.1', '1.2'] },
      { 'CIS-2.0': ['1.1', '1.2'], 'ISO27001-2013': ['A.9'], 'PCI-4.0': ['7.2.1'] },
      { 'CIS-2.0': ['1.1', '1.2'], 'ISO27001-2013': [] },
      {},
      { 'CIS-2.0': ['1.1', '1.2'], 'ISO27001-2013': ['A.9'] },
    ];
    const records = variants.map((compliance, index) => record(`finding-${index}`, 'ec2_check', JSON.parse(JSON.stringify(compliance)) as Record<string, string[]>));
    records.push(record('other-check', 'iam_check', { 'CIS-2.0': ['1.1', '1.2'], 'ISO27001-2013': ['A.9'] }));
    for (const r of records) encoder.add(r);

    const { maps, byUid } = stagedCompliance(encoder);
    for (const r of records) assert.deepEqual(byUid.get(r.uid), r.compliance, r.uid);
    // Eight different texts (the reordered map is another text with the same content); the repeats and the other check's copy share theirs.
    assert.equal(maps.length, 8);
  });

  it('starts each batch with its own array of maps', () => {
    const encoder = new StageEncoder(Date.UTC(2026, 0, 1), '01900000-0000-7000-8000-000000000002');
    encoder.add(record('a', 'ec2_check', { 'CIS-2.0': ['1.1'] }));
    assert.deepEqual(stagedCompliance(encoder).maps, [{ 'CIS-2.0': ['1.1'] }]);
    encoder.add(record('b', 'ec2_check', { 'CIS-2.0': ['1.1'] }));
    encoder.add(record('c', 'ec2_check', { 'CIS-2.0': ['2.1'] }));
    const second = stagedCompliance(encoder);
    assert.deepEqual(second.maps, [{ 'CIS-2.0': ['1.1'] }, { 'CIS-2.0': ['2.1'] }]);
    assert.deepEqual(second.byUid.get('c'), { 'CIS-2.0': ['2.1'] });
  });
});
