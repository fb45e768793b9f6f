import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { BrowserContext, chromium } from 'playwright-core';
import { TestApp } from './support/app';
import { freePort } from './support/integrations';

const TAGS = ['auth', 'organizations', 'users', 'audit', 'webhooks', 'integrations', 'health'];
const SCREENSHOT = resolve(__dirname, '..', 'test-output', 'docs.png');

/**
 * The API docs as a person sees them: Debian's chromium (never a downloaded build) opens /docs, whose Swagger UI
 * assets come from the installed package (no network), finds every tag, and runs liveness with "Try it out".
 */
describe('API docs in a real browser', () => {
  let t: TestApp;
  let browser: BrowserContext;
  let profile: string;
  let baseUrl: string;

  beforeAll(async () => {
    const port = await freePort();
    baseUrl = `http://127.0.0.1:${port}`;
    t = await TestApp.boot({ publicUrl: baseUrl });
    await t.app.listen(port, '127.0.0.1');
    profile = mkdtempSync(join(tmpdir(), 'tenantry-chromium-'));
    browser = await chromium.launchPersistentContext(profile, {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      headless: true,
      viewport: { width: 1280, height: 1600 },
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
    });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await t?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
  });

  it('shows every tag, runs GET /health/live with "Try it out", sees 200 {"status":"ok"}, and saves a screenshot', async () => {
    const page = await browser.newPage();
    const offsite: string[] = [];
    page.on('request', (request) => {
      if (!request.url().startsWith(baseUrl) && !request.url().startsWith('data:')) offsite.push(request.url());
    });
    await page.goto(`${baseUrl}/docs`);
    await page.locator('.opblock-tag').first().waitFor({ timeout: 10_000 });
    const tags = await page.locator('.opblock-tag').evaluateAll((nodes) => nodes.map((node) => node.getAttribute('data-tag')));
    expect(tags).toEqual(expect.arrayContaining(TAGS));

    const liveness = page.locator('#operations-health-liveness');
    await liveness.locator('.opblock-summary').click();
    await liveness.locator('.try-out__btn').click();
    await liveness.locator('.execute').click();
    const response = liveness.locator('.live-responses-table .response');
    await response.waitFor({ timeout: 10_000 });
    expect((await response.locator('.response-col_status').first().textContent())?.trim()).toBe('200');
    const body = JSON.parse((await response.locator('.response-col_description pre').first().textContent()) ?? '{}');
    expect(body).toEqual({ status: 'ok' });

    mkdirSync(resolve(SCREENSHOT, '..'), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    expect(statSync(SCREENSHOT).size).toBeGreaterThan(10_000);
    // Swagger UI's script, styles and the document all came from the API itself.
    expect(offsite).toEqual([]);
    await page.close();
  }, 30_000);
});
