import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { newId } from '../../src/database/uuid';
import { TenantDatabase } from '../../src/database/tenant-database';
import { LocalAppModule } from '../../src/local-app.module';
import { TasksService } from '../../src/tasks/tasks.service';
import { parseCsv } from '../support/csv';
import { adminClient } from '../support/database';
import { generateRecords } from '../support/finding-generator';
import { ingestScan, insertProvider, insertScan } from '../support/findings-fixtures';
import { ApiClient, signUp } from '../support/http-client';
import { checksOf, frameworksFor, PROWLER_COMPLIANCE_DIR, withRealChecks } from '../support/prowler-compliance';
import { enqueue, fastQueueEnv, waitFor, waitForTaskEnd } from '../support/tasks-fixture';
import { startTestApp, TestApp } from '../support/test-app';
import { addMember, createRule, insertRole } from './rls-rules-fixtures';

/**
 * Compliance reports end to end: the `scan-report` job run by in-process
 * workers writes them from the framework files and the scan's findings; the
 * files are downloaded over HTTP and checked against the findings in the
 * database; each PDF's pages are rendered with pdftoppm and must not be blank.
 */
describe('compliance reports', () => {
  let admin: Client;
  let app: TestApp;
  let api: ApiClient;
  let tenantId: string;
  let providerId: string;
  let scanId: string;
  const reportsDir = mkdtempSync(join(tmpdir(), 'compliance-reports-'));
  const aws = frameworksFor('aws');

  before(async () => {
    admin = await adminClient();
    app = await startTestApp({ ...fastQueueEnv('compliance-reports'), WORKERS_IN_PROCESS: 'true', PROWLER_COMPLIANCE_DIR, REPORTS_DIR: reportsDir }, LocalAppModule);
    const owner = await signUp(app.baseUrl, 'compliance-reports');
    tenantId = owner.tenantId;
    api = owner.client;
    providerId = await insertProvider(admin, tenantId, 'aws', '444444444444');
    const started = new Date(Date.now() - 3600_000);
    scanId = await insertScan(admin, tenantId, providerId, started);
    await ingestScan(app, { tenantId, scanId, providerId, scanStartedAt: started }, withRealChecks(generateRecords({ providerKey: 'reports-aws', count: 300 }), checksOf(aws)));
    const task = await enqueue(app, tenantId, { name: 'scan-report', args: { scanId, providerId } });
    const ended = await waitForTaskEnd(task.id, 120000);
    assert.equal(ended.state, 'completed', JSON.stringify(ended.result));
  });
  after(async () => {
    await admin?.end();
    await app?.close();
    rmSync(reportsDir, { recursive: true, force: true });
  });

  async function download(client: ApiClient, path: string): Promise<Response> {
    return fetch(`${client.baseUrl}/api/v1/scans/${scanId}${path}`, { headers: { authorization: `Bearer ${client.token}` } });
  }

  /** Findings per check of the scan (with extra SQL over f), as the reports must list them. */
  async function findingsPerCheck(extra = ''): Promise<Map<string, number>> {
    const { rows } = await admin.query(`SELECT f.check_id, count(*)::int AS n FROM findings f WHERE f.scan_id = $1 ${extra} GROUP BY f.check_id`, [scanId]);
    return new Map(rows.map((r) => [r.check_id, r.n]));
  }

  function expectedRows(frameworkId: string, perCheck: Map<string, number>): number {
    const framework = aws.find((f) => f.id === frameworkId)!;
    return framework.requirements.reduce((sum, r) => sum + (r.checks.length === 0 ? 1 : r.checks.reduce((s, c) => s + (perCheck.get(c) ?? 0), 0)), 0);
  }

  it('a framework CSV has a row per finding of each requirement’s checks and one per manual requirement', async () => {
    const response = await download(api, '/compliance/cis_3.0_aws');
    assert.equal(response.status, 200, await response.clone().text());
    assert.equal(response.headers.get('content-type'), 'text/csv; charset=utf-8');
    const csv = parseCsv(await response.text());
    const [header, ...rows] = csv;
    assert.deepEqual(header.slice(0, 7), ['PROVIDER', 'DESCRIPTION', 'ACCOUNTID', 'REGION', 'ASSESSMENTDATE', 'REQUIREMENTS_ID', 'REQUIREMENTS_DESCRIPTION']);
    assert.ok(header.includes('REQUIREMENTS_ATTRIBUTES_SECTION'));
    assert.equal(rows.length, expectedRows('cis_3.0_aws', await findingsPerCheck()));
    const status = header.indexOf('STATUS');
    assert.ok(rows.some((r) => r[status] === 'MANUAL') && rows.some((r) => r[status] === 'FAIL') && rows.some((r) => r[status] === 'PASS'));
    assert.ok(rows.every((r) => r[header.indexOf('ACCOUNTID')] === '444444444444'));

    assert.equal((await download(api, '/compliance/nothing_aws')).status, 404);
    assert.equal((await download(api, '/compliance/..%2F..%2Fetc')).status, 404);
    assert.equal((await download(api, '/compliance/cis_3.0_aws/ocsf')).status, 404, 'only universal frameworks have an OCSF export');
  });

  it('a universal framework’s OCSF export is an array of Compliance Findings', async () => {
    const response = await download(api, '/compliance/csa_ccm_4.0/ocsf');
    assert.equal(response.status, 200, await response.clone().text());
    const records = (await response.json()) as any[];
    const csa = aws.find((f) => f.id === 'csa_ccm_4.0')!;
    const perCheck = await findingsPerCheck();
    assert.equal(records.length, expectedRows('csa_ccm_4.0', perCheck));
    assert.ok(records.every((r) => r.class_uid === 2003 && r.compliance.standards[0] === 'CSA-CCM-4.0'));
    assert.ok(records.every((r) => csa.requirements.some((q) => q.id === r.compliance.requirements[0])));
    const csv = parseCsv(await (await download(api, '/compliance/csa_ccm_4.0')).text());
    assert.equal(csv.length - 1, records.length);
  });

  it('each PDF report renders with a cover, a chart and tables that are not blank', async () => {
    const work = mkdtempSync(join(tmpdir(), 'pdf-pages-'));
    try {
      for (const kind of ['cis', 'csa', 'ens', 'nis2', 'threatscore']) {
        const response = await download(api, `/${kind}`);
        assert.equal(response.status, 200, `${kind}: ${await response.clone().text()}`);
        assert.equal(response.headers.get('content-type'), 'application/pdf');
        const pdf = Buffer.from(await response.arrayBuffer());
        assert.equal(pdf.subarray(0, 5).toString(), '%PDF-');
        const file = join(work, `${kind}.pdf`);
        writeFileSync(file, pdf);
        // Pages 1-3: cover, summary chart, first requirement table; PPM (pdftoppm's default) is read here directly.
        execFileSync('pdftoppm', ['-r', '30', '-f', '1', '-l', '3', file, join(work, kind)]);
        const pages = readdirSync(work).filter((f) => f.startsWith(`${kind}-`) && f.endsWith('.ppm')).sort();
        assert.equal(pages.length, 3, `${kind}: ${pages.join(',')}`);
        for (const page of pages) {
          const share = inkShare(readFileSync(join(work, page)));
          assert.ok(share > 0.01 && share < 0.95, `${kind} ${page}: ${share} of the pixels are not white`);
        }
      }
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });

  it('202 with the task while the report job is pending; an invisible or unknown scan is 404', async () => {
    const started = new Date(Date.now() - 1800_000);
    const other = await insertScan(admin, tenantId, providerId, started);
    const pending = await app.app.get(TenantDatabase).transaction(tenantId, () =>
      app.app.get(TasksService).enqueue({ name: 'scan-report', args: { scanId: other, providerId } }, { delayMs: 60_000 }),
    );
    const response = await fetch(`${app.baseUrl}/api/v1/scans/${other}/nis2`, { headers: { authorization: `Bearer ${api.token}` } });
    assert.equal(response.status, 202);
    assert.equal(response.headers.get('content-location'), `/api/v1/tasks/${pending.id}`);
    await admin.query(`UPDATE tasks SET state = 'cancelled' WHERE id = $1`, [pending.id]);
    const none = await fetch(`${app.baseUrl}/api/v1/scans/${other}/nis2`, { headers: { authorization: `Bearer ${api.token}` } });
    assert.equal(none.status, 404);
    const unknown = await fetch(`${app.baseUrl}/api/v1/scans/${newId()}/cis`, { headers: { authorization: `Bearer ${api.token}` } });
    assert.equal(unknown.status, 404);

    const role = await insertRole(admin, tenantId, 'reports-nobody');
    const limited = (await addMember(app.baseUrl, admin, tenantId, 'reports-limited', [role])).client;
    assert.equal((await download(limited, '/cis')).status, 404);
    assert.equal((await download(limited, '/compliance/cis_3.0_aws')).status, 404);
  });

  it('a caller with a findings rule gets a report built from the rows they may see', async () => {
    const region = (await admin.query(`SELECT region FROM findings WHERE scan_id = $1 GROUP BY region ORDER BY count(*) DESC LIMIT 1`, [scanId])).rows[0].region;
    const role = await insertRole(admin, tenantId, 'reports-analyst', ['unlimited_visibility']);
    await createRule(api, { clause: `region = '${region}'`, roles: [role], tables: ['findings'] });
    const member = (await addMember(app.baseUrl, admin, tenantId, 'reports-member', [role])).client;
    const response = await download(member, '/compliance/cis_3.0_aws');
    assert.equal(response.status, 200);
    const rows = parseCsv(await response.text()).slice(1);
    const visible = expectedRows('cis_3.0_aws', await findingsPerCheck(`AND f.region = '${region}'`));
    assert.equal(rows.length, visible);
    assert.notEqual(visible, expectedRows('cis_3.0_aws', await findingsPerCheck()));
    const pdf = await download(member, '/threatscore');
    assert.equal(pdf.status, 200);
    assert.equal(Buffer.from(await pdf.arrayBuffer()).subarray(0, 5).toString(), '%PDF-');
    // Reports built for one request do not stay behind (removed once sent).
    const working = join(reportsDir, '.tmp');
    await waitFor('the per-request folders to go', async () => readdirSync(working).filter((f) => !f.endsWith('.zip')).length === 0, 5000);
  });
});

/** The share of a binary PPM (P6) image's pixels that are not white. */
function inkShare(ppm: Buffer): number {
  const header = ppm.toString('latin1', 0, 64).match(/^P6\s+(\d+)\s+(\d+)\s+(\d+)\s/);
  assert.ok(header, 'a P6 image');
  const [whole, width, height] = [header[0], Number(header[1]), Number(header[2])];
  let ink = 0;
  for (let offset = whole.length; offset + 2 < ppm.length; offset += 3) {
    if (ppm[offset] < 240 || ppm[offset + 1] < 240 || ppm[offset + 2] < 240) ink++;
  }
  return ink / (width * height);
}
