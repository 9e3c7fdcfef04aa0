import { createWriteStream } from 'node:fs';
import { PassThrough } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { writeOcsfJsonArray } from '../../src/scans/ocsf/ocsf-generator';

/** Writes OCSF findings as a gzipped JSON array, as the Prowler CLI's output file is. `level` trades size for speed. */
export async function writeGzippedOcsfFile(path: string, records: Iterable<unknown>, level?: number): Promise<void> {
  const json = new PassThrough();
  const written = pipeline(json, createGzip(level === undefined ? {} : { level }), createWriteStream(path));
  await writeOcsfJsonArray(records, json);
  json.end();
  await written;
}
