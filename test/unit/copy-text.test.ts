import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { copyRow, CopyTextBuffer } from '../../src/findings/ingestion/copy-from-stdin';
import { StageEncoder } from '../../src/findings/ingestion/staging-tables';
import { findingId, findingIdsOf } from '../../src/findings/storage/finding-ids';
import { generateRecords } from '../support/finding-generator';

describe('COPY text for the staging tables', () => {
  it('escapes what COPY reads as structure, writes NULL and booleans as COPY does, and drops NUL', () => {
    assert.equal(copyRow(['a\\b', 'tab\there', 'two\nlines\r', 'nul\0', null, undefined, true, false, 42]), 'a\\\\b\ttab\\there\ttwo\\nlines\\r\tnul\t\\N\t\\N\tt\tf\t42\n');
  });

  it('gathers rows as the UTF-8 bytes of their text, past its first allocation and across takes', () => {
    const buffer = new CopyTextBuffer();
    const rows = Array.from({ length: 5000 }, (_, i) => [`row ${i}`, 'Zürich 東京 🔒', i % 2 === 0, i % 7 === 0 ? null : `x\t${i}`]);
    for (const row of rows) buffer.append(row);
    const first = buffer.take();
    assert.ok(first.length > 64 * 1024, 'the rows outgrew the first allocation');
    assert.deepEqual(first, Buffer.from(rows.map(copyRow).join('')));
    // Copied whole when posted to another thread, so it must not carry spare bytes.
    assert.equal(first.buffer.byteLength, first.length);

    buffer.append(['after', 'ü']);
    assert.equal(buffer.take().toString(), 'after\tü\n');
    assert.equal(buffer.take().length, 0);
  });

  it('gives every finding of a scan the id findingId gives: UUIDv7 time of the start, bits of md5(scan:uid)', () => {
    const startedMs = Date.parse('2026-03-04T05:06:07.089Z');
    const scanId = '01900000-0000-7000-8000-000000000002';
    const idOf = findingIdsOf(startedMs, scanId);
    for (const uid of ['prowler-aws-s3_bucket_public_access-123456789012-us-east-1-bucket', 'ü 東京', '']) {
      const md5 = createHash('md5').update(`${scanId}:${uid}`).digest('hex');
      const hex = `${startedMs.toString(16).padStart(12, '0')}7${md5.slice(0, 3)}${'89ab'[parseInt(md5[3], 16) & 3]}${md5.slice(4, 19)}`;
      const expected = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
      assert.equal(idOf(uid), expected);
      assert.equal(findingId(startedMs, scanId, uid), expected);
    }
  });

  it('encodes a batch record by record: one finding row per id, a link for each other resource, each resource once, and starts empty after a cut', () => {
    const records = [...generateRecords({ providerKey: 'stage', count: 300 })];
    // Findings with more than one resource: one with two of its own, one naming another finding's.
    records[10] = { ...records[10], resources: [...records[10].resources, { ...records[10].resources[0], uid: 'arn:aws:s3:::second' }] };
    const other = records.find((r) => r.resources[0].uid !== records[20].resources[0].uid)!.resources[0];
    records[20] = { ...records[20], resources: [...records[20].resources, other, other] };
    // One naming its own first resource again: linked once, by its row.
    records[30] = { ...records[30], resources: [...records[30].resources, records[30].resources[0]] };
    const encoder = new StageEncoder(Date.parse('2026-03-04T05:06:07.089Z'), '01900000-0000-7000-8000-000000000002');
    for (const record of records) encoder.add(record);
    // A uid the batch already holds keeps its first record: the repeat adds nothing.
    encoder.add({ ...records[40], status: records[40].status === 'PASS' ? 'FAIL' : 'PASS', resources: [other] });
    assert.equal(encoder.size, 300);
    const payload = encoder.cut();
    const findingRows = payload.findings.toString().split('\n').slice(0, -1);
    assert.equal(findingRows.length, 300);
    assert.deepEqual(findingRows.map((row) => row.split('\t')[1]), records.map((r) => r.uid));
    assert.equal(findingRows[40].split('\t')[4], records[40].status);
    // A finding's first resource is its row's resource_uid; link_stage has the others.
    assert.deepEqual(findingRows.map((row) => row.split('\t')[12]), records.map((r) => r.resources[0].uid));
    const links = payload.links.toString().split('\n').slice(0, -1);
    assert.deepEqual(links, [
      `${findingRows[10].split('\t')[0]}\tarn:aws:s3:::second`,
      `${findingRows[20].split('\t')[0]}\t${other.uid}`,
    ]);
    const resourceUids = new Set(records.flatMap((r) => r.resources.map((resource) => resource.uid)));
    assert.equal(payload.resourceCount, resourceUids.size);
    assert.deepEqual(payload.resources.toString().split('\n').slice(0, -1).map((row) => row.split('\t')[1]), [...resourceUids]);

    assert.equal(encoder.size, 0);
    encoder.add(records[0]);
    const next = encoder.cut();
    assert.equal(next.findings.toString(), `${findingRows[0]}\n`);
    assert.equal(next.resourceCount, records[0].resources.length);
  });
});
