import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BrowserContext, chromium, Page } from 'playwright-core';
import { JSONAPI_MEDIA_TYPE } from '../../src/common/jsonapi/media-type';
import { LocalAppModule } from '../../src/local-app.module';
import { PLACEHOLDER_ID } from '../../src/openapi/body-example';
import { openApiDocument } from '../support/openapi-check';
import { OCSF_FIXTURE } from '../support/ocsf-fixture-path';
import { fastQueueEnv, waitForTaskEnd } from '../support/tasks-fixture';
import { newSpoolDir } from '../support/scans-fixture';
import { startTestApp, STRONG_PASSWORD, TestApp, uniqueEmail } from '../support/test-app';

/** The fixture's findings belong to this AWS account (cloud.account.uid). */
const FIXTURE_ACCOUNT = '123456789012';

/**
 * A newcomer's whole first session in Swagger UI, in Debian's headless
 * Chromium: sign up, take a token, Authorize, add a provider and its secret,
 * import an OCSF file through the file picker, and list findings with filters
 * typed into the form. Every step is done with "Try it out" and Execute, and
 * checked on the response Swagger UI shows.
 */
describe('Swagger UI, used as a person would', () => {
  let app: TestApp;
  let context: BrowserContext;
  let page: Page;
  const profile = mkdtempSync(join(tmpdir(), 'cspm-chromium-'));
  const shots = mkdtempSync(join(tmpdir(), 'cspm-swagger-shots-'));
  const spoolDir = newSpoolDir('swagger-ui');

  before(async () => {
    app = await startTestApp({ ...fastQueueEnv('swagger-ui'), WORKERS_IN_PROCESS: 'true', SCAN_SPOOL_DIR: spoolDir }, LocalAppModule);
    context = await chromium.launchPersistentContext(profile, {
      executablePath: '/usr/bin/chromium',
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      viewport: { width: 1400, height: 1000 },
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.setDefaultTimeout(60000);
  });
  after(async () => {
    await context?.close();
    await app?.close();
    for (const dir of [profile, shots, spoolDir]) rmSync(dir, { recursive: true, force: true });
  });

  /** Opens an operation, turns on Try it out, lets `fill` complete the form, executes, and answers the status and body shown. */
  async function tryOperation(tag: string, operationId: string, fill: (operation: ReturnType<Page['locator']>) => Promise<void>): Promise<{ status: number; body: any }> {
    const operation = page.locator(`#operations-${tag}-${operationId}`);
    await scrollUntilRendered(operation);
    await operation.scrollIntoViewIfNeeded();
    if (!(await operation.locator('.opblock-body').isVisible())) await operation.locator('.opblock-summary').first().click();
    const tryOut = operation.locator('button.try-out__btn').first();
    if ((await tryOut.textContent())?.trim() === 'Try it out') await tryOut.click();
    await fill(operation);
    await operation.locator('button.execute').click();
    const status = operation.locator('.live-responses-table tbody .response-col_status').first();
    await status.waitFor();
    const body = (await operation.locator('.live-responses-table tbody .response-col_description pre').first().textContent()) ?? '';
    let parsed: any = body;
    try {
      parsed = JSON.parse(body);
    } catch {
      // Not JSON: kept as text for the assertion message.
    }
    // The cell holds the code and, for a status the document lacks, the word "Undocumented".
    const shown = (await status.textContent()) ?? '';
    assert.doesNotMatch(shown, /undocumented/i, `${operationId} answered a status its operation does not document`);
    return { status: Number(/\d{3}/.exec(shown)?.[0] ?? `NaN (shown: ${shown})`), body: parsed };
  }

  /**
   * Swagger UI renders operations as they come into view, so one further down
   * than the window reaches is not in the page yet: scroll down (then from the
   * top again) until it is, as a person scrolls to find it.
   */
  async function scrollUntilRendered(operation: ReturnType<Page['locator']>): Promise<void> {
    for (let attempt = 0; attempt < 400 && (await operation.count()) === 0; attempt++) {
      if (attempt % 200 === 0) await page.evaluate(() => window.scrollTo(0, 0));
      // The window itself, not the wheel: the pointer may rest over a response box that scrolls on its own.
      await page.evaluate(() => window.scrollBy(0, 800));
      await page.waitForTimeout(50);
    }
  }

  const jsonBody = (value: unknown) => async (operation: ReturnType<Page['locator']>) => {
    await operation.locator('textarea.body-param__text').fill(JSON.stringify(value, null, 2));
  };

  /** Checks Try it out pre-filled the body with the document's example, then sends it with the given ids swapped in. */
  const prefilledBody = (path: string, ids: Record<string, string>) => async (operation: ReturnType<Page['locator']>) => {
    const textarea = operation.locator('textarea.body-param__text');
    const shown = await textarea.inputValue();
    const documented = (openApiDocument().paths[path].post.requestBody as { content: Record<string, { example: unknown }> }).content[JSONAPI_MEDIA_TYPE].example;
    assert.deepEqual(JSON.parse(shown), documented);
    await textarea.fill(Object.entries(ids).reduce((text, [placeholder, id]) => text.replaceAll(placeholder, id), shown));
  };

  it('signs up, takes a token, authorizes, adds a provider and secret, imports a scan and lists its findings', async () => {
    await page.goto(`${app.baseUrl}/api/v1/docs`);
    // A large document on a busy machine: Swagger UI may take a while to render it.
    await page.locator('.swagger-ui .information-container').waitFor({ timeout: 120000 });

    const email = uniqueEmail('swagger');
    const signUp = await tryOperation('User', 'users_sign_up', jsonBody({ data: { type: 'users', attributes: { name: 'Swagger user', email, password: STRONG_PASSWORD, company_name: 'Docs' } } }));
    assert.equal(signUp.status, 201, JSON.stringify(signUp.body));

    const token = await tryOperation('Token', 'tokens_obtain', jsonBody({ data: { type: 'tokens', attributes: { email, password: STRONG_PASSWORD } } }));
    assert.equal(token.status, 200, JSON.stringify(token.body));
    const access = token.body.data.attributes.access as string;

    await page.locator('button.authorize').first().click();
    const bearer = page.locator('.auth-container').filter({ hasText: 'bearer' }).first();
    await bearer.locator('input').fill(access);
    await bearer.locator('button.authorize').click();
    await page.locator('.modal-ux button.btn-done').first().click();

    // Authorized: the provider is created with the token Swagger UI now sends (without it, 401).
    // The documented example (an AWS account whose id is the fixture's) is sent as Try it out shows it.
    const provider = await tryOperation('Provider', 'providers_create', prefilledBody('/api/v1/providers', {}));
    assert.equal(provider.body.data?.attributes?.uid, FIXTURE_ACCOUNT);
    assert.equal(provider.status, 201, JSON.stringify(provider.body));
    const providerId = provider.body.data.id as string;

    // The pre-filled example with only its placeholder provider id replaced, as a person edits it.
    const secret = await tryOperation('Provider', 'provider_secrets_create', prefilledBody('/api/v1/providers/secrets', { [PLACEHOLDER_ID]: providerId }));
    assert.equal(secret.status, 201, JSON.stringify(secret.body));

    const imported = await tryOperation('Scan', 'scan_imports_import', async (operation) => {
      await operation.locator('tr[data-property-name="provider_id"] input').fill(providerId);
      await operation.locator('tr[data-property-name="file"] input[type="file"]').setInputFiles(OCSF_FIXTURE);
    });
    assert.equal(imported.status, 202, JSON.stringify(imported.body));
    assert.equal(imported.body.data.type, 'tasks');
    const task = await waitForTaskEnd(imported.body.data.id, 60000);
    assert.equal(task.state, 'completed', JSON.stringify(task));

    const findings = await tryOperation('Finding', 'findings_list', async (operation) => {
      await operation.locator('tr[data-param-name="filter[severity]"] select').selectOption('medium');
      await operation.locator('tr[data-param-name="filter[provider]"] input').fill(providerId);
    });
    const shot = join(shots, 'findings.png');
    await page.screenshot({ path: shot, fullPage: false });
    assert.ok(statSync(shot).size > 10_000, 'a screenshot was written');
    assert.equal(findings.status, 200, JSON.stringify(findings.body));
    assert.ok(findings.body.data.length > 0, 'the imported findings are listed');
    assert.ok(findings.body.data.every((finding: any) => finding.attributes.severity === 'medium'), JSON.stringify(findings.body.data.map((f: any) => f.attributes.severity)));
    const url = await page.locator('#operations-Finding-findings_list .request-url pre').textContent();
    assert.match(url ?? '', /filter%5Bseverity%5D=medium|filter\[severity\]=medium/);
  });
});
