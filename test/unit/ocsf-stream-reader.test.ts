import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createReadStream, createWriteStream, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable, Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { gzipSync } from 'node:zlib';
import { OcsfRecord, RawOcsfFinding } from '../../src/scans/ocsf/ocsf-record';
import { OcsfBatch, OcsfFormatError, OcsfReadSummary, ReadOcsfOptions, readOcsf } from '../../src/scans/ocsf/ocsf-stream-reader';
import { GenerateOcsfOptions, generateOcsfRecords, writeOcsfJsonArray } from '../../src/scans/ocsf/ocsf-generator';
import { OCSF_FIXTURE } from '../support/ocsf-fixture-path';

// Prowler's own example output, placeholders filled: five AWS findings, 2-space indented.
const FIXTURE_PATH = OCSF_FIXTURE;
const FIXTURE_BYTES = readFileSync(FIXTURE_PATH);
const FIXTURE_FINDINGS = JSON.parse(FIXTURE_BYTES.toString('utf8')) as RawOcsfFinding[];

interface ReadResult {
  batches: OcsfBatch[];
  records: OcsfRecord[];
  summary: OcsfReadSummary;
}

async function readAll(input: Readable, options: ReadOcsfOptions = {}): Promise<ReadResult> {
  const batches: OcsfBatch[] = [];
  const reading = readOcsf(input, options);
  for (;;) {
    const step = await reading.next();
    if (step.done) return { batches, records: batches.flatMap((batch) => batch.records), summary: step.value };
    batches.push(step.value);
  }
}

async function readError(input: Readable, options: ReadOcsfOptions = {}): Promise<{ error: OcsfFormatError; batches: number }> {
  let batches = 0;
  try {
    for await (const batch of readOcsf(input, options)) {
      assert.ok(batch.records.length > 0);
      batches++;
    }
  } catch (error) {
    assert.ok(error instanceof OcsfFormatError, `expected an OcsfFormatError, got ${String(error)}`);
    return { error, batches };
  }
  assert.fail('the read succeeded');
}

/** The bytes as a stream of chunks of `size` bytes, to show nothing depends on where chunks end. */
function inChunks(bytes: Buffer, size = bytes.length): Readable {
  const chunks: Buffer[] = [];
  for (let start = 0; start < bytes.length; start += size) chunks.push(bytes.subarray(start, start + size));
  return Readable.from(chunks);
}

const fromText = (text: string, chunkSize?: number): Readable => inChunks(Buffer.from(text, 'utf8'), chunkSize);
const asPrettyArray = (findings: unknown[]): string => JSON.stringify(findings, null, 2);
const fixtureCopy = (): RawOcsfFinding[] => structuredClone(FIXTURE_FINDINGS);

// Measuring what the reader keeps alive takes a full collection on demand, which `node --test` is not started with.
setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;

/** Sets a value at a dotted path of a finding copy; undefined deletes it. */
function withField(finding: RawOcsfFinding, path: string, value: unknown): RawOcsfFinding {
  const keys = path.split('.');
  let holder = finding as Record<string, unknown>;
  for (const key of keys.slice(0, -1)) holder = holder[key] as Record<string, unknown>;
  const last = keys[keys.length - 1];
  if (value === undefined) delete holder[last];
  else holder[last] = value;
  return finding;
}

describe("readOcsf on Prowler's example output", () => {
  it('normalises every record with the values the file holds', async () => {
    const { records, summary } = await readAll(createReadStream(FIXTURE_PATH));

    assert.equal(records.length, 5);
    const [first, second] = records;
    assert.deepEqual(
      first,
      {
        uid: 'prowler-aws-accessanalyzer_enabled-123456789012-eu-west-1-accessanalyzer-res-0',
        checkId: 'accessanalyzer_enabled',
        checkTitle: 'Check if IAM Access Analyzer is enabled',
        status: 'FAIL',
        statusExtended: 'IAM Access Analyzer in account 123456789012 is not enabled.',
        severity: 'low',
        muted: false,
        providerType: 'aws',
        accountUid: '123456789012',
        region: 'eu-west-1',
        service: 'accessanalyzer',
        resourceType: 'Other',
        resources: [
          {
            uid: 'arn:aws:accessanalyzer:eu-west-1:123456789012:accessanalyzer-res-0',
            name: 'accessanalyzer-res-0',
            region: 'eu-west-1',
            service: 'accessanalyzer',
            type: 'Other',
            tags: {},
            partition: 'aws',
            metadata: JSON.stringify({
              arn: 'arn:aws:accessanalyzer:eu-west-1:123456789012:accessanalyzer-res-0',
              name: 'accessanalyzer-res-0',
              status: 'NOT_AVAILABLE',
              findings: [],
              tags: [],
              type: '',
              region: 'eu-west-1',
            }),
          },
        ],
        compliance: {
          'CIS-1.4': ['1.20'],
          'CIS-1.5': ['1.20'],
          'KISA-ISMS-P-2023': ['2.5.6', '2.6.4', '2.8.1', '2.8.2'],
          'CIS-2.0': ['1.20'],
          'KISA-ISMS-P-2023-korean': ['2.5.6', '2.6.4', '2.8.1', '2.8.2'],
          'AWS-Account-Security-Onboarding': [
            'Enabled security services',
            'Create analyzers in each active regions',
            'Verify that events are present in SecurityHub aggregated view',
          ],
          'CIS-3.0': ['1.20'],
        },
        categories: [],
        // `time` is 1739539623; time_dt reads an hour later, the scanning machine's local time.
        eventTime: new Date('2025-02-14T13:27:03Z'),
      },
    );

    assert.equal(second.status, 'MANUAL');
    assert.equal(second.severity, 'medium');
    assert.equal(second.region, 'us-east-1');
    assert.equal(second.service, 'account');
    assert.deepEqual(second.resources.map((resource) => [resource.uid, resource.name]), [['arn:aws:iam::123456789012:root', '123456789012']]);
    assert.deepEqual(second.compliance['ENS-RD2022'], ['op.ext.7.aws.am.1']);

    assert.deepEqual(
      records.map((record) => [record.checkId, record.status, record.severity]),
      FIXTURE_FINDINGS.map((finding) => [
        (finding.metadata as RawOcsfFinding).event_code,
        finding.status_code,
        (finding.severity as string).toLowerCase(),
      ]),
    );
    assert.deepEqual(summary, {
      recordsRead: 5,
      recordsAccepted: 5,
      recordsSkipped: 0,
      inputBytesRead: FIXTURE_BYTES.length,
      providerType: 'aws',
      skipped: [],
    });
  });

  it('reads the same records from the gzipped file, and counts the compressed bytes', async () => {
    const plain = await readAll(inChunks(FIXTURE_BYTES));
    const gzipped = gzipSync(FIXTURE_BYTES);
    const { records, summary } = await readAll(inChunks(gzipped));
    assert.deepEqual(records, plain.records);
    assert.equal(summary.inputBytesRead, gzipped.length);
  });

  it('gives the same records whatever the chunk size, down to one byte of gzip', async () => {
    const expected = (await readAll(inChunks(FIXTURE_BYTES))).records;
    assert.deepEqual((await readAll(inChunks(FIXTURE_BYTES, 7))).records, expected);
    assert.deepEqual((await readAll(inChunks(gzipSync(FIXTURE_BYTES), 7))).records, expected);
    assert.deepEqual((await readAll(inChunks(gzipSync(FIXTURE_BYTES), 1))).records, expected);
  });

  it('cuts batches of the size asked, with running totals', async () => {
    const { batches } = await readAll(inChunks(FIXTURE_BYTES, 7), { batchSize: 2 });
    assert.deepEqual(
      batches.map((batch) => [batch.records.length, batch.progress.recordsRead]),
      [
        [2, 2],
        [2, 4],
        [1, 5],
      ],
    );
  });

  it('cuts the first of large batches at 1,000 records, so writing can start while the rest is read', async () => {
    const findings = [...generateOcsfRecords({ providerType: 'aws', accountUid: '123456789012', count: 2500, seed: 9 })];
    const { batches } = await readAll(Readable.from([JSON.stringify(findings)]), { batchSize: 2000 });
    assert.deepEqual(
      batches.map((batch) => [batch.records.length, batch.progress.recordsRead]),
      [
        [1000, 1000],
        [1500, 2500],
      ],
    );
  });

  it('cuts a later batch at half the batch size while its consumer says it is waiting, and at the batch size otherwise', async () => {
    const findings = [...generateOcsfRecords({ providerType: 'aws', accountUid: '123456789012', count: 9000, seed: 9 })];
    let waiting = false;
    const sizes: number[] = [];
    for await (const batch of readOcsf(Readable.from([JSON.stringify(findings)]), { batchSize: 3000, consumerWaiting: () => waiting })) {
      sizes.push(batch.records.length);
      // Waiting from the third batch on: the consumer is asked at every record, not only when a batch starts.
      waiting = sizes.length >= 2;
    }
    assert.deepEqual(sizes, [1000, 3000, 1500, 1500, 1500, 500]);
  });

  it('accepts the provider type the scan expects, in any case', async () => {
    const { summary } = await readAll(inChunks(FIXTURE_BYTES), { expectedProvider: 'AWS' });
    assert.equal(summary.recordsAccepted, 5);
  });

  it('refuses a file naming another account than the one expected, naming the records; records without an account pass', async () => {
    const { summary } = await readAll(inChunks(FIXTURE_BYTES), { expectedProvider: 'aws', expectedAccount: '123456789012' });
    assert.equal(summary.recordsAccepted, 5);

    const findings = fixtureCopy();
    withField(findings[1], 'cloud.account.uid', '210987654321');
    withField(findings[3], 'cloud.account', undefined);
    const { error, batches } = await readError(fromText(asPrettyArray(findings)), { expectedProvider: 'aws', expectedAccount: '123456789012' });
    assert.equal(batches, 0, 'nothing is handed on from a file of another account');
    assert.deepEqual(error.badRecords.map((r) => [r.index, r.problems]), [[1, ["account '210987654321', expected '123456789012'"]]]);
    assert.match(error.message, /record 1 '[^']+' \(line \d+\): account '210987654321', expected '123456789012'/);

    const { summary: unchecked } = await readAll(fromText(asPrettyArray(findings)), { expectedProvider: 'aws' });
    assert.equal(unchecked.recordsAccepted, 5, 'without an expected account nothing is compared');
  });
});

describe('readOcsf normalisation', () => {
  const readOne = async (finding: RawOcsfFinding): Promise<OcsfRecord> => {
    const { records, summary } = await readAll(fromText(asPrettyArray([finding])));
    assert.deepEqual(summary.skipped, []);
    return records[0];
  };

  it("reads a muted finding from Prowler's Suppressed status", async () => {
    const finding = withField(withField(fixtureCopy()[0], 'status', 'Suppressed'), 'status_id', 3);
    assert.equal((await readOne(finding)).muted, true);
  });

  it("reads the check's categories, lower case and once each, leaving out what is not a name", async () => {
    const finding = withField(fixtureCopy()[0], 'unmapped.categories', ['Internet-Exposed', 'secrets', 'secrets', '', 7, null, ' logging ']);
    assert.deepEqual((await readOne(finding)).categories, ['internet-exposed', 'secrets', 'logging']);
    assert.deepEqual((await readOne(withField(fixtureCopy()[0], 'unmapped.categories', 'secrets'))).categories, []);
  });

  it('turns resource labels into tags, AWS reserved keys and the older "key: value" form included', async () => {
    const finding = fixtureCopy()[0];
    withField(finding, 'resources', [
      { ...(finding.resources as RawOcsfFinding[])[0], labels: ['Name:web', 'aws:cloudformation:stack-name:prod-stack', 'env: dev', 'url:https://x.test', 'flag'] },
    ]);
    assert.deepEqual((await readOne(finding)).resources[0].tags, {
      Name: 'web',
      'aws:cloudformation:stack-name': 'prod-stack',
      env: 'dev',
      url: 'https://x.test',
      flag: '',
    });
  });

  it('reads a Kubernetes finding, which Prowler writes without a cloud object', async () => {
    const finding = fixtureCopy()[0];
    withField(finding, 'cloud', undefined);
    withField(finding, 'metadata.profiles', ['container', 'datetime']);
    const [resource] = finding.resources as RawOcsfFinding[];
    delete resource.region;
    delete resource.cloud_partition;
    resource.namespace = 'kube-system';
    const record = await readOne(finding);
    assert.equal(record.providerType, 'kubernetes');
    assert.equal(record.region, 'kube-system');
    assert.equal(record.resources[0].region, 'kube-system');
    assert.equal(record.accountUid, '');
  });

  it("maps Prowler's older Microsoft 365 provider name, and skips findings of a provider the API does not know", async () => {
    const m365 = withField(fixtureCopy()[0], 'cloud.provider', 'microsoft365');
    assert.equal((await readOne(m365)).providerType, 'm365');

    const unknown = withField(fixtureCopy()[0], 'cloud.provider', 'nhn');
    const { summary } = await readAll(fromText(asPrettyArray([unknown])));
    assert.deepEqual(summary.skipped[0].problems, ["provider type 'nhn' is not supported"]);

    const unsaid = withField(fixtureCopy()[0], 'cloud', undefined);
    const { summary: unsaidSummary } = await readAll(fromText(asPrettyArray([unsaid])), { expectedProvider: 'aws' });
    assert.deepEqual(unsaidSummary.skipped[0].problems, ['cloud.provider is missing']);
  });

  it('takes records without the optional fields, with empty defaults', async () => {
    const finding = fixtureCopy()[0];
    for (const path of ['finding_info.title', 'status_detail', 'message', 'cloud.region', 'cloud.account', 'unmapped', 'time', 'time_dt', 'remediation', 'risk_details', 'severity']) {
      withField(finding, path, undefined);
    }
    const [resource] = finding.resources as RawOcsfFinding[];
    for (const key of ['region', 'group', 'type', 'labels', 'data', 'name', 'cloud_partition']) delete resource[key];

    const record = await readOne(finding);
    assert.equal(record.checkTitle, '');
    assert.equal(record.statusExtended, '');
    assert.equal(record.severity, 'low', 'from severity_id when the caption is absent');
    assert.equal(record.accountUid, '');
    assert.equal(record.region, '');
    assert.equal(record.service, 'accessanalyzer', "from the check id's prefix");
    assert.equal(record.resourceType, '');
    assert.deepEqual(record.compliance, {});
    assert.deepEqual(record.categories, []);
    assert.equal(record.eventTime, undefined);
    assert.deepEqual(record.resources[0], { uid: resource.uid, name: '', region: '', service: 'accessanalyzer', type: '', tags: {} });
  });

  it('keeps strings holding brackets, braces, quotes, escapes and multi-byte characters intact, fed a byte at a time', async () => {
    const tricky = 'a "quoted" {brace} [bracket] ]}]} \\ back\\"slash\\ \u00e9t\u00e9 \u{1f512} \u2028 \\u005d';
    const finding = withField(fixtureCopy()[0], 'status_detail', tricky);
    // Ends on a backslash: in the file, an even run of backslashes before the closing quote.
    withField(finding, 'finding_info.title', '}]\\');
    withField(finding, 'unmapped.compliance', { '{"framework"]': ['[1.1]', '}'] });
    const text = asPrettyArray([finding, fixtureCopy()[1]]);

    const { records } = await readAll(fromText(text, 1));
    assert.equal(records.length, 2);
    assert.equal(records[0].statusExtended, tricky);
    assert.equal(records[0].checkTitle, '}]\\');
    assert.deepEqual(records[0].compliance, { '{"framework"]': ['[1.1]', '}'] });
    assert.equal(records[1].uid, (FIXTURE_FINDINGS[1].finding_info as RawOcsfFinding).uid);
  });

  it('reads records whatever their layout, when a nested value or a later separator breaks the layout of the first two', async () => {
    const findings = Array.from({ length: 40 }, (_, index) => withField(fixtureCopy()[index % 5], 'finding_info.uid', `finding-${index}`));
    const twoResources = findings[2];
    withField(twoResources, 'resources', [...(twoResources.resources as unknown[]), { ...(twoResources.resources as RawOcsfFinding[])[0], uid: 'second-resource' }]);
    const compact = findings.map((finding) => JSON.stringify(finding));
    // Record 2's resources laid out like the records themselves ("},\n{"): the end guessed from the layout falls inside it.
    compact[2] = compact[2].replace('},{"cloud_partition"', '},\n{"cloud_partition"');
    assert.ok(compact[2].includes('},\n{'));
    // From record 10 on, records share lines: the layout learnt no longer holds.
    const text = `[\n${compact.slice(0, 10).join(',\n')},\n${compact.slice(10).join(', ')}\n]`;

    for (const chunkSize of [undefined, 7, 1000]) {
      const { records } = await readAll(fromText(text, chunkSize));
      assert.deepEqual(records.map((record) => record.uid), findings.map((_, index) => `finding-${index}`), `chunks of ${chunkSize}`);
      assert.deepEqual(records[2].resources.map((resource) => resource.uid).slice(1), ['second-resource']);
    }

    // A record that is not JSON, after records taken on the layout's word, is named with its line.
    const broken = `[\n${compact.slice(0, 6).join(',\n')},\n{"class_uid": 2004, "status_code": FAIL},\n${compact[6]}\n]`;
    const { error } = await readError(fromText(broken));
    assert.deepEqual(error.badRecords.map((record) => [record.index, record.line]), [[6, 9]]);
  });

  it('reads an empty file, as Prowler leaves when a scan finds nothing, and an empty array, as no records', async () => {
    for (const text of ['', ' \n', '[]', ' [ \n ] \n']) {
      const { batches, summary } = await readAll(fromText(text));
      assert.equal(batches.length, 0, JSON.stringify(text));
      assert.equal(summary.recordsRead, 0);
    }
  });
});

describe('readOcsf refusing bad input', () => {
  it('refuses a file that is not JSON', async () => {
    const { error } = await readError(fromText('Prowler scan results\nFAIL accessanalyzer_enabled'));
    assert.match(error.message, /Not a JSON file: it starts with 'P' on line 1/);
  });

  it('refuses bytes that are not UTF-8 text', async () => {
    const { error } = await readError(inChunks(Buffer.from([0x50, 0x4b, 0x03, 0x04, 0xff, 0xfe, 0x00])));
    assert.match(error.message, /Not a JSON file/);
    const { error: binary } = await readError(inChunks(Buffer.from([0x5b, 0xff, 0xfe])));
    assert.match(binary.message, /not UTF-8/);
  });

  it('refuses a character cut short, whether plain ASCII chunks or the end of the file follow it', async () => {
    // '[{"a":"é"}]' with the second byte of é missing: ASCII chunks after it are still decoded as UTF-8, not copied as they are.
    const cutShort = Readable.from([Buffer.from('[{"a":"'), Buffer.from([0xc3]), Buffer.from('"}]')]);
    assert.match((await readError(cutShort)).error.message, /not UTF-8/);
    const atTheEnd = Readable.from([Buffer.from(JSON.stringify([FIXTURE_FINDINGS[0]])), Buffer.from([0xc3])]);
    assert.match((await readError(atTheEnd)).error.message, /not UTF-8/);
  });

  it('refuses a top-level object instead of an array', async () => {
    const { error } = await readError(fromText(JSON.stringify(FIXTURE_FINDINGS[0])));
    assert.match(error.message, /top-level JSON value is an object, not an array/);
  });

  it('refuses an array of anything but objects', async () => {
    const { error } = await readError(fromText('[\n  "PASS",\n  1\n]'));
    assert.match(error.message, /record 0 is not a JSON object \(it starts with '"' on line 2\)/);
  });

  it('refuses JSON that is not OCSF, naming the first records', async () => {
    const { error } = await readError(fromText(asPrettyArray([{ CheckID: 'iam_root_mfa', Status: 'FAIL' }, { finding_info: { uid: 'x' } }, { class_uid: 2003 }])));
    assert.deepEqual(
      error.badRecords.map((record) => [record.index, record.line]),
      [
        [0, 2],
        [1, 6],
        [2, 11],
      ],
    );
    assert.match(error.message, /record 0 \(line 2\): not an OCSF Detection Finding \(class_uid absent, expected 2004\)/);
    assert.match(error.message, /record 2 \(line 11\): not an OCSF Detection Finding \(class_uid 2003/);
  });

  it('refuses a truncated file, plain or gzipped', async () => {
    const cut = FIXTURE_BYTES.subarray(0, Math.floor(FIXTURE_BYTES.length / 2));
    assert.match((await readError(inChunks(cut, 64))).error.message, /Truncated file: it ends inside record 2, which starts on line /);

    const afterRecord = asPrettyArray(FIXTURE_FINDINGS.slice(0, 2)).replace(/\n\]$/, ',');
    assert.match((await readError(fromText(afterRecord))).error.message, /ends after 2 records, before the array's closing '\]'/);

    const gzipped = gzipSync(FIXTURE_BYTES);
    assert.match((await readError(inChunks(gzipped.subarray(0, gzipped.length - 12)))).error.message, /gzip data is corrupt or truncated/);
  });

  it('refuses content after the array, and a record that is not valid JSON', async () => {
    assert.match((await readError(fromText('[]\n[]'))).error.message, /unexpected '\[' on line 2 after the array's closing/);
    const { error } = await readError(fromText('[\n{"class_uid": 2004, "status_code": FAIL}\n]'));
    assert.match(error.message, /record 0 \(line 2\): not valid JSON/);
  });

  it("refuses records of another provider than the file's first, naming them, and yields nothing", async () => {
    const findings = fixtureCopy();
    withField(findings[3], 'cloud.provider', 'gcp');
    const { error, batches } = await readError(fromText(asPrettyArray(findings)), { batchSize: 2 });
    assert.equal(batches, 1, 'only the batch complete before the bad record');
    assert.equal(error.badRecords.length, 1);
    assert.equal(error.badRecords[0].index, 3);
    assert.match(error.message, /record 3 'prowler-aws-account_security_contact_information_is_registered-[^']+' \(line \d+\): provider type 'gcp', expected 'aws'/);

    const { batches: unbatched } = await readError(fromText(asPrettyArray(findings)));
    assert.equal(unbatched, 0, 'with the default batch size, no batch leaves before the error');
  });

  it("refuses records of another provider than the scan's", async () => {
    const { error } = await readError(inChunks(FIXTURE_BYTES), { expectedProvider: 'azure', maxBadRecordsReported: 2 });
    assert.deepEqual(error.badRecords.map((record) => record.index), [0, 1]);
    assert.match(error.message, /provider type 'aws', expected 'azure'/);
  });

  it('counts and reports records missing required fields, and takes the rest', async () => {
    const findings = fixtureCopy();
    withField(findings[1], 'finding_info.uid', undefined);
    withField(findings[2], 'metadata.event_code', '');
    withField(findings[3], 'status_code', 'OK');
    withField(findings[4], 'resources', []);
    withField(findings[0], 'severity', 'Severe');

    const text = asPrettyArray([...findings, FIXTURE_FINDINGS[0]]);
    const { records, summary } = await readAll(fromText(text), { maxBadRecordsReported: 4 });
    assert.deepEqual(records.map((record) => record.checkId), ['accessanalyzer_enabled']);
    assert.equal(summary.recordsRead, 6);
    assert.equal(summary.recordsSkipped, 5);
    assert.deepEqual(
      summary.skipped.map((record) => [record.index, record.problems]),
      [
        [0, ['severity "Severe" is not one of critical, high, medium, low, informational']],
        [1, ['finding_info.uid is missing']],
        [2, ['metadata.event_code (check id) is missing']],
        [3, ['status_code "OK" is not one of PASS, FAIL or MANUAL']],
      ],
    );
    assert.equal(summary.skipped[2].findingUid, (FIXTURE_FINDINGS[2].finding_info as RawOcsfFinding).uid);
    assert.deepEqual(summary.skipped.map((record) => record.line), [0, 1, 2, 3].map((index) => lineOfRecord(text, index)));
  });

  it('lets go of the input when the reader is left early', async () => {
    const input = inChunks(FIXTURE_BYTES, 512);
    for await (const batch of readOcsf(input, { batchSize: 1 })) {
      assert.equal(batch.records.length, 1);
      break;
    }
    assert.equal(input.destroyed, true);

    const gzipped = inChunks(gzipSync(FIXTURE_BYTES), 512);
    for await (const batch of readOcsf(gzipped, { batchSize: 1 })) {
      assert.equal(batch.records.length, 1);
      break;
    }
    await new Promise((resolveTick) => setImmediate(resolveTick));
    assert.equal(gzipped.destroyed, true);
  });
});

describe('readOcsf on a large file', () => {
  const RECORDS = 50_000;
  let directory: string;
  let path: string;

  before(async () => {
    directory = mkdtempSync(join(tmpdir(), 'ocsf-reader-'));
    path = join(directory, 'large.ocsf.json');
    const output = createWriteStream(path);
    await writeOcsfJsonArray(clonedFixtureFindings(RECORDS), output, { indent: 2 });
    output.end();
    await finished(output);
  });

  after(() => rmSync(directory, { recursive: true, force: true }));

  it('reads 50,000 records exactly, holding no more than a batch', async (context) => {
    const fileBytes = statSync(path).size;
    collectGarbage();
    const heapBefore = process.memoryUsage().heapUsed;
    let peakHeap = heapBefore;
    let peakRetained = 0;
    let batches = 0;
    let records = 0;
    let lastUid = '';
    const started = process.hrtime.bigint();
    const reading = readOcsf(createReadStream(path), { expectedProvider: 'aws' });
    let step = await reading.next();
    for (; !step.done; step = await reading.next()) {
      records += step.value.records.length;
      lastUid = step.value.records[step.value.records.length - 1].uid;
      peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
      // A full collection now and then shows what the reader keeps alive, garbage aside.
      if (++batches % 10 === 0) {
        collectGarbage();
        peakRetained = Math.max(peakRetained, process.memoryUsage().heapUsed - heapBefore);
      }
    }
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;

    assert.equal(records, RECORDS);
    assert.equal(step.value.recordsAccepted, RECORDS);
    assert.equal(step.value.recordsSkipped, 0);
    assert.equal(lastUid, `synthetic-${RECORDS - 1}`);
    assert.ok(peakRetained < fileBytes / 20, `kept ${mebibytes(peakRetained)} alive reading a ${mebibytes(fileBytes)} file`);
    assert.ok(peakHeap - heapBefore < fileBytes / 2, `heap grew ${mebibytes(peakHeap - heapBefore)} reading a ${mebibytes(fileBytes)} file`);
    context.diagnostic(
      `${RECORDS} records, ${mebibytes(fileBytes)}: ${Math.round(RECORDS / seconds)} records/s, ${(fileBytes / 1048576 / seconds).toFixed(0)} MiB/s; ` +
        `heap: at most ${mebibytes(peakRetained)} retained, ${mebibytes(peakHeap - heapBefore)} peak growth with garbage`,
    );
  });
});

/** Fixture findings over and over, each with its own uid and resource, and statuses turned in turn. */
function* clonedFixtureFindings(count: number): Generator<RawOcsfFinding> {
  const statuses = ['PASS', 'FAIL', 'MANUAL'];
  for (let index = 0; index < count; index++) {
    const finding = structuredClone(FIXTURE_FINDINGS[index % FIXTURE_FINDINGS.length]);
    withField(finding, 'finding_info.uid', `synthetic-${index}`);
    withField(finding, 'status_code', statuses[index % statuses.length]);
    (finding.resources as RawOcsfFinding[])[0].uid = `arn:aws:s3:::synthetic-bucket-${index}`;
    yield finding;
  }
}

const mebibytes = (bytes: number): string => `${(bytes / 1048576).toFixed(1)} MiB`;

async function writtenText(findings: Iterable<unknown>, options?: { indent?: number }): Promise<string> {
  const parts: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      parts.push(chunk.toString());
      done();
    },
  });
  await writeOcsfJsonArray(findings, sink, options);
  return parts.join('');
}

/** The 1-based line a pretty-printed array's record starts on. */
function lineOfRecord(text: string, index: number): number {
  const lines = text.split('\n');
  let seen = -1;
  return lines.findIndex((line) => line === '  {' && ++seen === index) + 1;
}

describe('generateOcsfRecords', () => {
  const AWS: GenerateOcsfOptions = { providerType: 'aws', accountUid: '123456789012', count: 20_000, seed: 7 };

  async function roundTrip(options: GenerateOcsfOptions): Promise<ReadResult> {
    const file = new PassThrough();
    const written = writeOcsfJsonArray(generateOcsfRecords(options), file).then(() => file.end());
    const result = await readAll(file, { expectedProvider: options.providerType });
    await written;
    return result;
  }

  const shares = <T extends string>(values: T[]): Record<string, number> => {
    const counts: Record<string, number> = {};
    for (const value of values) counts[value] = (counts[value] ?? 0) + 1;
    return Object.fromEntries(Object.entries(counts).map(([key, count]) => [key, count / values.length]));
  };

  const assertNear = (actual: Record<string, number>, expected: Record<string, number>): void => {
    for (const [key, share] of Object.entries(expected)) {
      assert.ok(Math.abs((actual[key] ?? 0) - share) < 0.02, `${key}: ${actual[key]} is not near ${share}`);
    }
  };

  it('round-trips through readOcsf with the spread asked for', async () => {
    const { records, summary } = await roundTrip(AWS);
    assert.equal(records.length, AWS.count);
    assert.equal(summary.recordsSkipped, 0);
    assert.equal(summary.providerType, 'aws');
    assert.equal(new Set(records.map((record) => record.uid)).size, AWS.count, 'finding uids are unique');

    assertNear(shares(records.map((record) => record.severity)), { critical: 0.03, high: 0.17, medium: 0.35, low: 0.3, informational: 0.15 });
    assertNear(shares(records.map((record) => record.status)), { FAIL: 0.4, PASS: 0.55, MANUAL: 0.05 });
    assert.equal(new Set(records.map((record) => record.service)).size, 30);
    assert.equal(new Set(records.map((record) => record.region)).size, 15);
    const checkIds = new Set(records.map((record) => record.checkId)).size;
    assert.ok(checkIds >= 190 && checkIds <= 220, `${checkIds} check ids`);
    const resources = new Set(records.map((record) => record.resources[0].uid)).size;
    assert.ok(resources < AWS.count / 3, `${resources} resources are shared by several findings`);
    assert.ok(records.every((record) => record.accountUid === AWS.accountUid && record.resources[0].uid.startsWith('arn:aws:')));
  });

  it("shapes records like the fixture's", () => {
    const [generated] = generateOcsfRecords({ ...AWS, count: 1 });
    const [example] = FIXTURE_FINDINGS;
    const keysOf = (value: unknown): string[] => Object.keys(value as object);
    assert.deepEqual(keysOf(generated), keysOf(example));
    for (const key of ['metadata', 'unmapped', 'finding_info', 'cloud', 'remediation']) {
      assert.deepEqual(keysOf(generated[key]), keysOf(example[key]), key);
    }
    const [generatedResource] = generated.resources as RawOcsfFinding[];
    const [exampleResource] = example.resources as RawOcsfFinding[];
    assert.deepEqual(keysOf(generatedResource), keysOf(exampleResource));
    assert.deepEqual(keysOf(generatedResource.data), keysOf(exampleResource.data));
  });

  it('is deterministic for a seed', () => {
    const first = [...generateOcsfRecords({ ...AWS, count: 500 })];
    assert.deepEqual([...generateOcsfRecords({ ...AWS, count: 500 })], first);
    assert.notDeepEqual([...generateOcsfRecords({ ...AWS, count: 500, seed: 8 })], first);
  });

  it('generates Azure and GCP findings the reader takes', async () => {
    const azure = await roundTrip({ providerType: 'azure', accountUid: '8b9f4c3e-1a2b-4c3d-8e4f-5a6b7c8d9e0f', count: 2_000, seed: 1 });
    assert.equal(azure.summary.recordsAccepted, 2_000);
    assert.match(azure.records[0].resources[0].uid, /^\/subscriptions\/8b9f4c3e-1a2b-4c3d-8e4f-5a6b7c8d9e0f\/resourceGroups\//);
    const gcp = await roundTrip({ providerType: 'gcp', accountUid: 'acme-prod-123', count: 2_000, seed: 1 });
    assert.equal(gcp.summary.recordsAccepted, 2_000);
    assert.equal(gcp.summary.providerType, 'gcp');
  });

  it('writes a file that readOcsf takes gzipped, and an empty array for no records', async () => {
    const text = await writtenText(generateOcsfRecords({ ...AWS, count: 3_000 }), { indent: 4 });
    const { summary } = await readAll(inChunks(gzipSync(Buffer.from(text)), 4096));
    assert.equal(summary.recordsAccepted, 3_000);

    const empty = await writtenText(generateOcsfRecords({ ...AWS, count: 0 }));
    assert.equal(empty, '[]\n');
    assert.equal((await readAll(fromText(empty))).summary.recordsRead, 0);
  });
});
