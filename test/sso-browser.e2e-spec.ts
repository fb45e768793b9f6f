import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { BrowserContext, chromium } from 'playwright-core';
import { IdentityProviderSimulator } from '../apps/simulators/src/identity-provider';
import { createOktaSimulator } from '../apps/simulators/src/idps';
import { TestApp } from './support/app';
import { createOrganization, loginSuperadmin } from './support/factories';
import { freePort } from './support/integrations';

/**
 * A person's sign-in in a real browser: Debian's chromium (never a downloaded build) opens our login URL, fills the
 * Okta simulator's form, and lands on our callback, which answers a token pair.
 */
describe('single sign-on in a real browser', () => {
  let t: TestApp;
  let okta: IdentityProviderSimulator;
  let browser: BrowserContext;
  let profile: string;
  let publicUrl: string;

  beforeAll(async () => {
    okta = createOktaSimulator();
    await okta.listen(0);
    const port = await freePort();
    publicUrl = `http://127.0.0.1:${port}`;
    t = await TestApp.boot({ publicUrl });
    await t.app.listen(port, '127.0.0.1');
    profile = mkdtempSync(join(tmpdir(), 'tenantry-chromium-'));
    // A fresh user data dir: nothing of an earlier run (cookies, a session at the provider) carries over.
    browser = await chromium.launchPersistentContext(profile, {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
    });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await t?.close();
    await okta?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
  });

  it('opens the login URL, fills the identity provider’s form, and lands on the callback with a token', async () => {
    const org = await createOrganization(t, await loginSuperadmin(t));
    const clientSecret = randomBytes(16).toString('hex');
    const body = { provider: 'okta', issuer: okta.issuer, clientId: `browser-${org.slug}`, clientSecret, domains: [`${org.slug}.browser.test`], defaultRole: 'member', groupRoles: {} };
    const connection = await t.request('PUT', '/v1/organizations/current/sso', { body, token: org.admin.token });
    await okta.addClient({ client_id: body.clientId, client_secret: clientSecret, redirect_uris: [connection.body.redirectUri] });
    const email = `browser@${org.slug}.browser.test`;
    okta.addUser({ email, name: 'Browser User', password: 'Browser-Pass-123!', groups: [] });

    const page = await browser.newPage();
    await page.goto(`${publicUrl}/v1/auth/sso/${org.slug}/login`);
    expect(page.url()).toContain(okta.issuer);
    await page.fill('input[name="login"]', email);
    await page.fill('input[name="password"]', 'Browser-Pass-123!');
    await Promise.all([page.waitForURL(/\/v1\/auth\/sso\/.+\/callback/), page.click('button[type="submit"], input[type="submit"]')]);
    const answer = JSON.parse((await page.textContent('body')) ?? '{}');
    expect(answer).toMatchObject({ tokenType: 'Bearer', accessToken: expect.any(String) });
    const me = await t.get('/v1/auth/me', answer.accessToken);
    expect(me.body).toMatchObject({ email, role: 'member' });
    await page.close();
  }, 60_000);
});
