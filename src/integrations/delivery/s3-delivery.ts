import { readFile } from 'node:fs/promises';
import { unzipSync } from 'fflate';
import { ReportScan } from '../../findings/reports/report-findings';
import { ReportStorage } from '../../findings/reports/report-storage';
import { TransientJobError } from '../../tasks/jobs/job-errors';
import { S3Configuration } from '../integration-types';
import { S3Target } from '../targets/s3-target';
import { DeliveryRun, DeliverySummary } from './delivery-run';

/** Prowler's sub-folder per output format and the content type it uploads each with. */
const OUTPUT_FORMATS: ReadonlyArray<{ suffix: string; folder: string; contentType: string }> = [
  { suffix: '.ocsf.json', folder: 'json-ocsf', contentType: 'application/json' },
  { suffix: '.csv', folder: 'csv', contentType: 'text/csv' },
  { suffix: '.html', folder: 'html', contentType: 'text/html' },
];

/** `YYYYMMDDHHMMSS` of the scan's start, in UTC: Prowler's output file timestamp. */
function outputTimestamp(scan: ReportScan): string {
  const start = scan.started_at ?? scan.completed_at ?? new Date(0);
  return start.toISOString().replace(/[-:T]/g, '').slice(0, 14);
}

function outputBase(scan: ReportScan): string {
  return `prowler-output-${scan.provider_uid.replace(/[^\w-]/g, '-')}-${outputTimestamp(scan)}`;
}

/**
 * Prowler's key layout for the scan's outputs:
 * `<output_directory>/<csv|json-ocsf|html>/prowler-output-<provider uid>-<timestamp><ext>`.
 * Undefined for a zip entry that is none of them.
 */
export function s3KeyFor(entry: string, scan: ReportScan, outputDirectory: string): { key: string; contentType: string } | undefined {
  if (entry.includes('/')) return undefined;
  const format = OUTPUT_FORMATS.find((candidate) => entry.endsWith(candidate.suffix));
  if (!format) return undefined;
  return { key: `${outputDirectory}/${format.folder}/${outputBase(scan)}${format.suffix}`, contentType: format.contentType };
}

/**
 * Prowler's key for a compliance CSV (`<compliance id>.csv` in the scan's compliance reports):
 * `<output_directory>/compliance/prowler-output-<provider uid>-<timestamp>_<compliance id>.csv`.
 * Undefined for any other file (the OCSF and PDF reports stay in the API).
 */
export function s3ComplianceKeyFor(fileName: string, scan: ReportScan, outputDirectory: string): { key: string; contentType: string } | undefined {
  if (!/^[\w.-]+\.csv$/.test(fileName)) return undefined;
  return { key: `${outputDirectory}/compliance/${outputBase(scan)}_${fileName}`, contentType: 'text/csv' };
}

/**
 * Uploads the scan's published report files and compliance CSVs. Only
 * published files are read (the report job renames the zip and the compliance
 * folder into place once complete), so a half-written file is never sent;
 * until the zip exists the job waits and tries again. In the after-scan
 * workflow this step starts once the report step completed, which publishes
 * the compliance folder after the zip, so both are there.
 */
export async function deliverToS3(run: DeliveryRun, target: S3Target, reports: ReportStorage): Promise<DeliverySummary> {
  const handle = await reports.open(run.tenantId, run.scan.id);
  if (!handle) throw new TransientJobError("The scan's report is not published yet; the upload will be tried again.");
  let zip: Uint8Array;
  try {
    zip = await readFile(handle);
  } finally {
    await handle.close();
  }
  const configuration = run.integration.configuration as unknown as S3Configuration;
  let uploaded = 0;
  let skipped = 0;
  const send = async (object: { key: string; contentType: string }, content: () => Promise<Uint8Array>) => {
    if (run.alreadySent.has(object.key)) {
      skipped++;
      return;
    }
    run.signal.throwIfAborted();
    await target.put(object.key, await content(), object.contentType, run.signal);
    await run.markSent(object.key);
    uploaded++;
  };
  for (const [entry, content] of Object.entries(unzipSync(zip))) {
    const object = s3KeyFor(entry, run.scan, configuration.output_directory);
    if (object) await send(object, async () => content);
  }
  for (const fileName of await reports.complianceFileNames(run.tenantId, run.scan.id)) {
    const object = s3ComplianceKeyFor(fileName, run.scan, configuration.output_directory);
    if (object) await send(object, () => readComplianceFile(reports, run, fileName));
  }
  return { uploaded, already_uploaded: skipped };
}

async function readComplianceFile(reports: ReportStorage, run: DeliveryRun, fileName: string): Promise<Uint8Array> {
  const handle = await reports.openCompliance(run.tenantId, run.scan.id, fileName);
  if (!handle) throw new TransientJobError(`The compliance report ${fileName} went away while uploading; the upload will be tried again.`);
  try {
    return await readFile(handle);
  } finally {
    await handle.close();
  }
}
