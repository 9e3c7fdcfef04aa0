import { csvHeader, csvRow } from './report-csv';
import { forEachFindingPage, ReportScan, ReportSource, severityCounts } from './report-findings';
import { htmlHead, htmlRow, htmlTail } from './report-html';
import { ocsfFinding } from './report-ocsf';
import { ZipStreamWriter } from './zip-stream-writer';

/** The entries of a report zip, named after the scan. */
export function reportEntryNames(scanId: string): { csv: string; ocsf: string; html: string } {
  const base = `scan-${scanId}`;
  return { csv: `${base}.csv`, ocsf: `${base}.ocsf.json`, html: `${base}.html` };
}

/**
 * Writes a scan's report zip to `path`: the findings as CSV, as a JSON-OCSF
 * array and as an HTML page with a severity chart. Each entry reads the
 * findings again, page by page, so memory holds one page whatever the
 * scan's size. Returns the number of findings in it.
 */
export async function writeScanReport(path: string, scan: ReportScan, source: ReportSource): Promise<number> {
  const names = reportEntryNames(scan.id);
  const zip = new ZipStreamWriter(path);
  try {
    let findings = 0;
    await zip.entry(names.csv, async (append) => {
      await append(csvHeader());
      findings = await forEachFindingPage(source, scan.id, (page) => append(page.map((f) => csvRow(f, scan)).join('')));
    });
    await zip.entry(names.ocsf, async (append) => {
      let first = true;
      await append('[');
      await forEachFindingPage(source, scan.id, (page) => {
        const text = page.map((f) => JSON.stringify(ocsfFinding(f, scan))).join(',\n');
        const separator = first ? '\n' : ',\n';
        first = false;
        return append(separator + text);
      });
      await append('\n]\n');
    });
    const counts = await severityCounts(source, scan.id);
    await zip.entry(names.html, async (append) => {
      await append(htmlHead(scan, counts));
      await forEachFindingPage(source, scan.id, (page) => append(page.map(htmlRow).join('')));
      await append(htmlTail());
    });
    await zip.close();
    return findings;
  } catch (error) {
    zip.abort();
    throw error;
  }
}
