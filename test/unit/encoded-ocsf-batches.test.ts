import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createReadStream, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout } from 'node:timers/promises';
import { Worker } from 'node:worker_threads';
import { execFileSync } from 'node:child_process';
import { gzipSync } from 'node:zlib';
import { encodeBatch } from '../../src/findings/ingestion/ingest-batch';
import { IngestionScan } from '../../src/findings/ingestion/ingestion-record';
import { EncodedOcsfBatches, forEachEncodedBatch } from '../../src/scans/execution/encoded-ocsf-batches';
import { generateOcsfRecords } from '../../src/scans/ocsf/ocsf-generator';
import { OcsfFormatError, OcsfLimitError, readOcsf, ReadOcsfOptions } from '../../src/scans/ocsf/ocsf-stream-reader';
import { OCSF_FIXTURE } from '../support/ocsf-fixture-path';

const SCAN: IngestionScan = {
  tenantId: '01900000-0000-7000-8000-000000000001',
  scanId: '01900000-0000-7000-8000-000000000002',
  providerId: '01900000-0000-7000-8000-000000000003',
  scanStartedAt: new Date('2026-03-04T05:06:07.089Z'),
};

/** Reading and encoding on the import's worker thread gives what the same steps give on this one. */
describe('OCSF batches encoded on a worker thread', () => {
  const dir = mkdtempSync(join(tmpdir(), 'encoded-batches-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  async function readAll(file: string, options: ReadOcsfOptions) {
    const seen: Array<{ records: number; findings: string; resources: string; links: string; startedAt: number }> = [];
    const summary = await forEachEncodedBatch(file, options, SCAN, async (batch) => {
      const payload = batch.encoded.payload!;
      assert.ok(Buffer.isBuffer(payload.findings), 'the COPY writer gets Buffers');
      seen.push({
        records: batch.records,
        findings: payload.findings.toString(),
        resources: payload.resources.toString().replace(/^[0-9a-f-]{36}\t/gm, ''),
        links: payload.links.toString(),
        startedAt: batch.encoded.startedAt.getTime(),
      });
    });
    return { seen, summary };
  }

  it('yields the batches, encodings and summary the reader and encoder give in-thread, from a gzipped file', async () => {
    const records = [...generateOcsfRecords({ providerType: 'aws', accountUid: '123456789012', count: 2500, seed: 3 })];
    const file = join(dir, 'scan.json.gz');
    writeFileSync(file, gzipSync(JSON.stringify(records)));
    const options = { expectedProvider: 'aws', expectedAccount: '123456789012', batchSize: 1000 };

    const { seen, summary } = await readAll(file, options);

    const expected = [];
    const reading = readOcsf(createReadStream(file), options);
    for await (const batch of reading) {
      const encoded = await encodeBatch(SCAN, batch.records);
      expected.push({
        records: batch.records.length,
        findings: encoded.payload!.findings.toString(),
        // Staged resources take fresh ids, which differ between runs.
        resources: encoded.payload!.resources.toString().replace(/^[0-9a-f-]{36}\t/gm, ''),
        links: encoded.payload!.links.toString(),
        startedAt: encoded.startedAt.getTime(),
      });
    }
    assert.deepEqual(seen.map((b) => b.records), [1000, 1000, 500]);
    assert.deepEqual(seen, expected);
    assert.equal(summary.recordsAccepted, 2500);
    assert.equal(summary.recordsRead, 2500);
  });

  it('a file of one batch or none ends with its summary, and stopping early leaves nothing running', async () => {
    const file = join(dir, 'one-batch.json');
    writeFileSync(file, JSON.stringify([...generateOcsfRecords({ providerType: 'aws', accountUid: '123456789012', count: 40, seed: 4 })]));
    const { seen, summary } = await readAll(file, { batchSize: 1000 });
    assert.deepEqual(seen.map((b) => b.records), [40]);
    assert.equal(summary.recordsAccepted, 40);
    const empty = join(dir, 'empty.json');
    writeFileSync(empty, '[]');
    const none = await readAll(empty, {});
    assert.deepEqual(none.seen, []);
    assert.equal(none.summary.recordsRead, 0);

    // Taken one, closed with more to read: close() stops the thread and nothing rejects afterwards.
    const many = join(dir, 'many.json.gz');
    writeFileSync(many, gzipSync(JSON.stringify([...generateOcsfRecords({ providerType: 'aws', accountUid: '123456789012', count: 3000, seed: 5 })])));
    const batches = new EncodedOcsfBatches(many, { batchSize: 500 }, SCAN);
    const first = await batches.next();
    assert.equal(first.done, false);
    await batches.close();
  });

  it('batch sizes follow the slower side: short while the writer waits, whole while it is busy', async () => {
    const records = [...generateOcsfRecords({ providerType: 'aws', accountUid: '123456789012', count: 12_000, seed: 6 })];
    const file = join(dir, 'adaptive.json.gz');
    writeFileSync(file, gzipSync(JSON.stringify(records)));
    const sizesWhenWriting = async (writeMs: number) => {
      const sizes: number[] = [];
      const uids: string[] = [];
      await forEachEncodedBatch(file, { batchSize: 4000 }, SCAN, async (batch) => {
        sizes.push(batch.records);
        uids.push(...batch.encoded.payload!.findings.toString().trimEnd().split('\n').map((row) => row.split('\t')[1]));
        if (writeMs > 0) await setTimeout(writeMs);
      });
      assert.deepEqual(uids, records.map((r) => (r.finding_info as { uid: string }).uid), 'every record once, in order');
      return sizes;
    };
    // A writer done at once waits for every batch: each is cut once it holds 1,000 records (as soon as the thread
    // hears the writer waits), never left to reach 4,000.
    const eager = await sizesWhenWriting(0);
    assert.ok(eager.slice(0, -1).every((size) => size >= 1000 && size < 4000), `sizes ${eager}`);
    assert.ok(eager.length >= 4, `sizes ${eager}`);
    // A writer that takes a second per batch finds the next one whole when it asks.
    assert.deepEqual(await sizesWhenWriting(1000), [1000, 4000, 4000, 3000]);
  });

  it('a file that is not importable fails as an OcsfFormatError with the reader’s reason', async () => {
    const findings = JSON.parse(readFileSync(OCSF_FIXTURE, 'utf8'));
    findings[1].cloud.account.uid = '999999999999';
    const file = join(dir, 'other-account.json');
    writeFileSync(file, JSON.stringify(findings));
    const batches = new EncodedOcsfBatches(file, { expectedProvider: 'aws', expectedAccount: '123456789012' }, SCAN);
    try {
      await assert.rejects(batches.next(), (error: unknown) => {
        assert.ok(error instanceof OcsfFormatError);
        assert.match(error.message, /record 1 '[^']+' \(line \d+\): account '999999999999', expected '123456789012'/);
        return true;
      });
    } finally {
      await batches.close();
    }
  });

  it('a record bigger than the thread’s heap fails as a limit, not by taking the process’s memory', async () => {
    // 96 MiB of one record, with no record cap: only the thread's 16 MB heap stops it.
    const file = join(dir, 'huge-record.json.gz');
    writeFileSync(file, gzipSync(Buffer.concat([Buffer.from('[{"class_uid":2004,"message":"'), Buffer.alloc(96 * 1024 * 1024, 0x41), Buffer.from('"}]')])));
    const batches = new EncodedOcsfBatches(file, {}, SCAN, 16);
    try {
      await assert.rejects(batches.next(), (error: unknown) => {
        assert.ok(error instanceof OcsfLimitError, String(error));
        assert.match(error.message, /more than the 16 MB of memory it may use \(SCAN_ENCODING_THREAD_HEAP_MB\)/);
        return true;
      });
    } finally {
      await batches.close();
    }
    assert.ok(process.memoryUsage().heapUsed < 256 * 1024 * 1024, 'this thread never held the record');
  });

  it('an import takes the thread started, modules loaded, when the one before it ended', async () => {
    const file = join(dir, 'spare.json');
    writeFileSync(file, JSON.stringify([...generateOcsfRecords({ providerType: 'aws', accountUid: '123456789012', count: 30, seed: 7 })]));
    const first = await readAll(file, {});
    // Thread ids only grow: a thread started now is younger than the spare started when the import above closed.
    const probe = new Worker('', { eval: true });
    const probeId = probe.threadId;
    await probe.terminate();
    const batches = new EncodedOcsfBatches(file, {}, SCAN);
    try {
      assert.ok(batches.threadId < probeId, `thread ${batches.threadId} was started after ${probeId}`);
      const batch = await batches.next();
      assert.equal(batch.done, false);
      assert.equal(batch.value.records, 30);
      assert.equal(batch.value.encoded.payload!.findings.toString(), first.seen[0].findings, 'the spare reads what it is told, as a fresh thread does');
    } finally {
      await batches.close();
    }
  });

  it('a spare thread does not keep the process alive', () => {
    const file = join(dir, 'spare-exit.json');
    writeFileSync(file, JSON.stringify([...generateOcsfRecords({ providerType: 'aws', accountUid: '123456789012', count: 5, seed: 8 })]));
    const module = join(__dirname, '..', '..', 'src', 'scans', 'execution', 'encoded-ocsf-batches.js');
    const scan = `{ ...${JSON.stringify(SCAN)}, scanStartedAt: new Date(0) }`;
    const script = `require(${JSON.stringify(module)}).forEachEncodedBatch(${JSON.stringify(file)}, {}, ${scan}, async () => {}).then((s) => console.log('read', s.recordsRead))`;
    // Without unref the spare would hold the event loop open, and this would time out.
    const output = execFileSync(process.execPath, ['-e', script], { timeout: 20_000, encoding: 'utf8' });
    assert.equal(output.trim(), 'read 5');
  });

  it('a missing file fails with the reading error, not a hang', async () => {
    const batches = new EncodedOcsfBatches(join(dir, 'missing.json'), {}, SCAN);
    try {
      await assert.rejects(batches.next(), /ENOENT/);
    } finally {
      await batches.close();
    }
  });
});
