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

/**
 * Prowler's key layout: `<output_directory>/<csv|json-ocsf|html>/prowler-output-<provider uid>-<timestamp><ext>`
 * for the scan's outputs, `<output_directory>/compliance/<file>` for compliance CSVs. Undefined for
 * an entry that is neither.
 */
export function s3KeyFor(entry: string, scan: ReportScan, outputDirectory: string): { key: string; contentType: string } | undefined {
  if (entry.startsWith('compliance/') && entry.endsWith('.csv')) {
    const name = entry.slice('compliance/'.length);
    if (name === '' || name.includes('/')) return undefined;
    return { key: `${outputDirectory}/compliance/${name}`, contentType: 'text/csv' };
  }
  if (entry.includes('/')) return undefined;
  const format = OUTPUT_FORMATS.find((candidate) => entry.endsWith(candidate.suffix));
  if (!format) return undefined;
  const base = `prowler-output-${scan.provider_uid.replace(/[^\w-]/g, '-')}-${outputTimestamp(scan)}`;
  return { key: `${outputDirectory}/${format.folder}/${base}${format.suffix}`, contentType: format.contentType };
}

/**
 * Uploads the scan's published report files. Only a published zip is read
 * (the report job renames it into place once complete), so a half-written
 * file is never sent; until it exists the job waits and tries again.
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
  for (const [entry, content] of Object.entries(unzipSync(zip))) {
    const object = s3KeyFor(entry, run.scan, configuration.output_directory);
    if (!object) continue;
    if (run.alreadySent.has(object.key)) {
      skipped++;
      continue;
    }
    run.signal.throwIfAborted();
    await target.put(object.key, content, object.contentType, run.signal);
    await run.markSent(object.key);
    uploaded++;
  }
  return { uploaded, already_uploaded: skipped };
}
