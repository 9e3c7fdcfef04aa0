import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { mkdir, readdir, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { connect } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { unzipSync, strFromU8 } from 'fflate';
import { Client } from 'pg';
import { TenantDatabase } from '../../src/database/tenant-database';
import { REPORT_RETENTION_SCHEDULER_ID } from '../../src/findings/reports/report-retention.scheduler';
import { LocalAppModule } from '../../src/local-app.module';
import { normaliseOcsfFinding } from '../../src/scans/ocsf/ocsf-record';
import { TasksService } from '../../src/tasks/tasks.service';
import { adminClient } from '../support/database';
import { ApiClient, JSONAPI } from '../support/http-client';
import { buildFindingsWorld, FindingsWorld, limitedMember } from '../support/findings-world';
import { LogCapture } from '../support/log-capture';
import { startTestApp, TestApp } from '../support/test-app';
import { enqueue, fastQueueEnv, inspectQueue, waitFor, waitForTaskEnd } from '../support/tasks-fixture';
import { addMember, createRule, insertRole } from './rls-rules-fixtures';
import { parseCsv } from '../support/csv';

interface Report {
  csv: string[][];
  ocsf: Array<Record<string, any>>;
  html: string;
  names: string[];
}

/** Downloads a report and opens the zip: the CSV parsed into rows (header first), the OCSF array, the HTML text. */
async function download(client: ApiClient, scanId: string): Promise<Report> {
  const response = await fetch(`${client.baseUrl}/api/v1/scans/${scanId}/report`, { headers: { accept: JSONAPI, authorization: `Bearer ${client.token}` } });
  assert.equal(response.status, 200, await response.clone().text());
  assert.equal(response.headers.get('content-type'), 'application/zip');
  assert.equal(response.headers.get('content-disposition'), `attachment; filename="scan-${scanId}-report.zip"`);
  const entries = unzipSync(new Uint8Array(await response.arrayBuffer()));
  const text = (suffix: string) => strFromU8(entries[`scan-${scanId}${suffix}`]);
  return { csv: parseCsv(text('.csv')), ocsf: JSON.parse(text('.ocsf.json')), html: text('.html'), names: Object.keys(entries).sort() };
}

/**
 * Reports end to end: the `scan-report` job run by the in-process workers,
 * the zip downloaded over HTTP and opened, checked against the scan's
 * findings in the database; row filter rules, visibility and retention.
 */
describe('scan reports', () => {
  let admin: Client;
  let app: TestApp;
  let world: FindingsWorld;
  let api: ApiClient;
  const reportsDir = mkdtempSync(join(tmpdir(), 'cspm-reports-'));
  const env = fastQueueEnv('reports');
  const logs = new LogCapture();

  before(async () => {
    admin = await adminClient();
    app = await startTestApp({ ...env, WORKERS_IN_PROCESS: 'true', REPORTS_DIR: reportsDir, LOG_LEVEL: 'info' }, LocalAppModule, logs);
    world = await buildFindingsWorld(app, admin, 'reports', 1200);
    api = world.owner.client;
  });
  after(async () => {
    await admin.end();
    await app.close();
    rmSync(reportsDir, { recursive: true, force: true });
  });

  it('404 before any report, 202 with the task while it is built, then the zip of every finding of the scan', async () => {
    const scanId = world.scans.aws1Second;
    const none = await api.get(`/api/v1/scans/${scanId}/report`);
    assert.equal(none.status, 404);
    assert.ok(none.body.errors[0].detail);

    const task = await app.app.get(TenantDatabase).transaction(world.tenantId, () =>
      app.app.get(TasksService).enqueue({ name: 'scan-report', args: { scanId, providerId: world.providers.aws1 } }, { delayMs: 1500 }),
    );
    const pending = await api.get(`/api/v1/scans/${scanId}/report`);
    assert.equal(pending.status, 202, JSON.stringify(pending.body));
    assert.equal(pending.headers.get('content-location'), `/api/v1/tasks/${task.id}`);
    assert.equal(pending.body.data.id, task.id);
    assert.equal(pending.body.data.attributes.name, 'scan-report');

    const ended = await waitForTaskEnd(task.id, 30000);
    assert.equal(ended.state, 'completed', JSON.stringify(ended.result));
    const findings = (await admin.query(
      `SELECT uid, status, severity, muted, compliance FROM findings WHERE scan_id = $1 ORDER BY id`,
      [scanId],
    )).rows;
    assert.ok(findings.length > 1000, 'more findings than one page, so the keyset paging is exercised');
    assert.equal(ended.result.findings, findings.length);

    const report = await download(api, scanId);
    assert.deepEqual(report.names, [`scan-${scanId}.csv`, `scan-${scanId}.html`, `scan-${scanId}.ocsf.json`]);
    const [header, ...rows] = report.csv;
    assert.equal(header[0], 'FINDING_UID');
    assert.equal(rows.length, findings.length);
    assert.deepEqual(rows.map((r) => r[0]), findings.map((f) => f.uid));
    const statusColumn = header.indexOf('STATUS');
    assert.deepEqual(rows.map((r) => r[statusColumn]), findings.map((f) => f.status));

    assert.equal(report.ocsf.length, findings.length);
    report.ocsf.forEach((record, index) => {
      const normalised = normaliseOcsfFinding(record);
      assert.ok(normalised.record, JSON.stringify(normalised.problems));
      assert.equal(normalised.record.uid, findings[index].uid);
      assert.equal(normalised.record.severity, findings[index].severity);
      assert.deepEqual(normalised.record.compliance, findings[index].compliance);
    });

    assert.match(report.html, /^<!DOCTYPE html>/);
    assert.match(report.html, /<svg [^>]*>.*<\/svg>/s);
    assert.ok(!/<script|src="http|href="http/i.test(report.html), 'self-contained');
    const failedHigh = findings.filter((f) => f.status === 'FAIL' && !f.muted && f.severity === 'high').length;
    assert.ok(report.html.includes(`<title>high: ${failedHigh}</title>`));
    assert.equal((report.html.match(/<tr><td><span/g) ?? []).length, findings.length);
  });

  it('a client that hangs up the moment it has the whole zip leaves no "stream closed prematurely" in the log', async () => {
    const scanId = world.scans.aws1Second;
    const port = Number(new URL(app.baseUrl).port);
    for (let attempt = 0; attempt < 5; attempt++) {
      const received = await new Promise<number>((resolve, reject) => {
        const socket = connect(port, '127.0.0.1', () =>
          socket.write(`GET /api/v1/scans/${scanId}/report HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${api.token}\r\n\r\n`),
        );
        let data = Buffer.alloc(0);
        socket.on('data', (chunk: Buffer) => {
          data = Buffer.concat([data, chunk]);
          const headEnd = data.indexOf('\r\n\r\n');
          const length = Number(/content-length: (\d+)/i.exec(data.subarray(0, headEnd).toString())?.[1]);
          if (headEnd > 0 && data.length - headEnd - 4 >= length) {
            socket.destroy();
            resolve(length);
          }
        });
        socket.on('error', reject);
      });
      assert.ok(received > 0);
    }
    await sleep(300);
    const completed = logs.parsed().filter((line) => line.msg === 'request completed' && line.res?.statusCode === 200);
    assert.ok(completed.length >= 5, 'the downloads were logged');
    assert.deepEqual(logs.lines.filter((line) => line.includes('closed prematurely')), []);
  });

  it('a user with a findings rule receives only the rows they may see, matching what /findings lists for them', async () => {
    const scanId = world.scans.aws2;
    const task = await enqueue(app, world.tenantId, { name: 'scan-report', args: { scanId, providerId: world.providers.aws2 } });
    assert.equal((await waitForTaskEnd(task.id, 30000)).state, 'completed');
    const tenantWide = await download(api, scanId);

    const auditor = await insertRole(admin, world.tenantId, 'report-auditor', ['unlimited_visibility']);
    await createRule(api, { clause: "severity IN ('critical', 'high') AND status = 'FAIL'", roles: [auditor], tables: ['findings'] });
    const member = (await addMember(app.baseUrl, admin, world.tenantId, 'report-member', [auditor])).client;

    const theirs = await download(member, scanId);
    const visible = (await admin.query(
      `SELECT uid FROM findings WHERE scan_id = $1 AND severity IN ('critical', 'high') AND status = 'FAIL' ORDER BY id`,
      [scanId],
    )).rows.map((r) => r.uid);
    assert.ok(visible.length > 0 && visible.length < tenantWide.csv.length - 1);
    assert.deepEqual(theirs.csv.slice(1).map((r) => r[0]), visible);
    assert.deepEqual(theirs.ocsf.map((r) => r.finding_info.uid), visible);
    assert.equal((theirs.html.match(/<tr><td><span/g) ?? []).length, visible.length);
    assert.ok(theirs.html.includes('<title>medium: 0</title>'));

    const listed = await member.get(`/api/v1/findings?filter[scan]=${scanId}&page[size]=1`);
    assert.equal(listed.body.meta.pagination.count, visible.length);
    // What was built for them alone is gone once sent; only the published report stays.
    await waitFor('the per-request zip to be removed', async () => (await readdir(join(reportsDir, '.tmp')).catch(() => [])).length === 0);
    // The owner, whom no rule names, gets the tenant-wide file.
    assert.equal((await download(api, scanId)).csv.length, tenantWide.csv.length);
  });

  it('a scan the caller cannot see is 404, like an unknown one; a bad id is 400', async () => {
    const limited = await limitedMember(app, admin, world, world.providers.azure);
    assert.equal((await limited.get(`/api/v1/scans/${world.scans.aws1Second}/report`)).status, 404);
    assert.equal((await api.get('/api/v1/scans/01890000-0000-7000-8000-000000000000/report')).status, 404);
    assert.equal((await api.get('/api/v1/scans/not-a-uuid/report')).status, 400);
    assert.equal((await api.get(`/api/v1/scans/${world.scans.aws1Second}/report?colour=red`)).status, 400);
    await admin.query(`UPDATE providers SET deleted_at = now() WHERE id = $1`, [world.providers.aws1]);
    try {
      assert.equal((await api.get(`/api/v1/scans/${world.scans.aws1Second}/report`)).status, 404);
    } finally {
      await admin.query(`UPDATE providers SET deleted_at = NULL WHERE id = $1`, [world.providers.aws1]);
    }
  });

  it('a scans or providers rule that hides the scan or its provider makes the report 404, as for the scan itself', async () => {
    const scanId = world.scans.aws1Second;
    const readers = await Promise.all(
      [
        ['hides-scan', `id <> '${scanId}'`, 'scans'],
        ['hides-provider', `uid <> '111111111111'`, 'providers'],
      ].map(async ([label, clause, table]) => {
        const role = await insertRole(admin, world.tenantId, label, ['unlimited_visibility']);
        await createRule(api, { clause, roles: [role], tables: [table] });
        return { label, client: (await addMember(app.baseUrl, admin, world.tenantId, label, [role])).client };
      }),
    );
    assert.equal((await api.get(`/api/v1/scans/${scanId}/report`)).status, 200, 'the report exists, and the owner, whom no rule names, gets it');
    for (const { label, client } of readers) {
      assert.equal((await client.get(`/api/v1/scans/${scanId}/report`)).status, 404, `${label}: the report`);
      if (label === 'hides-scan') assert.equal((await client.get(`/api/v1/scans/${scanId}`)).status, 404, 'the scan itself');
      // Another scan, which no rule hides, still downloads.
      assert.equal((await client.get(`/api/v1/scans/${world.scans.aws2}/report`)).status, 200, `${label}: another scan's report`);
    }
  });

  it("deleting a provider removes its scans' report files", async () => {
    const providerId = world.providers.azure;
    const scanId = world.scans.azure;
    const built = await enqueue(app, world.tenantId, { name: 'scan-report', args: { scanId, providerId } });
    assert.equal((await waitForTaskEnd(built.id, 30000)).state, 'completed');
    const file = join(reportsDir, world.tenantId, `${scanId}.zip`);
    assert.ok((await stat(file)).isFile());

    const deletion = await api.delete(`/api/v1/providers/${providerId}`);
    assert.equal(deletion.status, 202, JSON.stringify(deletion.body));
    assert.equal((await waitForTaskEnd(deletion.body.data.id, 30000)).state, 'completed');
    assert.equal(await stat(file).catch(() => null), null);
    assert.equal((await api.get(`/api/v1/scans/${scanId}/report`)).status, 404);
  });

  it('the daily retention job removes report files older than REPORT_RETENTION_DAYS and keeps newer ones', async () => {
    const queue = inspectQueue(app.config.redis.url, env.REDIS_PREFIX, 'scan-reports');
    try {
      const scheduler = await queue.getJobScheduler(REPORT_RETENTION_SCHEDULER_ID);
      assert.equal(scheduler?.every, 24 * 60 * 60 * 1000);

      const oldTenant = join(reportsDir, '0190a5b2-0000-7000-8000-000000000001');
      await mkdir(oldTenant, { recursive: true });
      const oldFile = join(oldTenant, '0190a5b2-0000-7000-8000-000000000002.zip');
      await writeFile(oldFile, 'old report');
      const longAgo = new Date(Date.now() - 31 * 24 * 3600 * 1000);
      await utimes(oldFile, longAgo, longAgo);
      const kept = join(reportsDir, world.tenantId, `${world.scans.aws2}.zip`);
      assert.ok((await stat(kept)).isFile());

      await queue.add('scan-report-retention', { tenantId: '', taskId: null, args: {} });
      await waitFor('the old report to be removed', async () => !(await stat(oldTenant).catch(() => null)), 15000);
      assert.ok((await stat(kept)).isFile());
      assert.equal((await download(api, world.scans.aws2)).names.length, 3);
    } finally {
      await queue.close();
    }
  });
});
