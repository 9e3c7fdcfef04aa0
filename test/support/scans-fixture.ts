import { readFileSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiClient, HttpResult } from './http-client';
import { pollTask } from './tasks-fixture';

export const OCSF_FIXTURE = '/work/shared/fixtures/ocsf/prowler-output-aws.ocsf.json';

/** The fixture's findings: Prowler's own example output, five AWS findings on two resources. */
export function fixtureFindings(): Array<Record<string, any>> {
  return JSON.parse(readFileSync(OCSF_FIXTURE, 'utf8'));
}

export function newSpoolDir(label: string): string {
  return mkdtempSync(join(tmpdir(), `cspm-spool-${label}-`));
}

/** POST /api/v1/scans/imports as a browser or curl would send it: multipart/form-data. */
export async function uploadImport(
  client: ApiClient,
  fields: { provider_id?: string; name?: string },
  file?: Buffer | string,
  options: { fileField?: string; fileFirst?: boolean } = {},
): Promise<HttpResult> {
  const form = new FormData();
  const appendFile = () => {
    if (file !== undefined) form.append(options.fileField ?? 'file', new Blob([typeof file === 'string' ? Buffer.from(file) : file]), 'prowler-output.ocsf.json');
  };
  if (options.fileFirst) appendFile();
  for (const [key, value] of Object.entries(fields)) if (value !== undefined) form.append(key, value);
  if (!options.fileFirst) appendFile();
  const response = await fetch(`${client.baseUrl}/api/v1/scans/imports`, {
    method: 'POST',
    headers: { accept: 'application/vnd.api+json', ...(client.token ? { authorization: `Bearer ${client.token}` } : {}) },
    body: form,
  });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    // Not JSON: kept as text for the assertion message.
  }
  return { status: response.status, headers: response.headers, body };
}

/** Uploads, expects 202, and answers the finished task (through the API, as a client polls). */
export async function importAndWait(client: ApiClient, providerId: string, file: Buffer | string, timeoutMs = 30000): Promise<Record<string, any>> {
  const accepted = await uploadImport(client, { provider_id: providerId }, file);
  if (accepted.status !== 202) throw new Error(`import refused: ${accepted.status} ${JSON.stringify(accepted.body)}`);
  return pollTask(client, accepted.body.data.id, timeoutMs);
}
