/**
 * Signing in to the web app through an OpenID Connect issuer, in headless Chromium (Debian's), against
 * a real OpenID provider on loopback (oidc-provider, test/support/oidc-provider.ts) and the real API
 * and worker processes: the app offers the issuer's sign-in, the authorization-code flow with PKCE
 * runs through the provider's own pages and comes back to `/auth/callback`, and the access token it
 * gets (an ES256 JWT the API checks against the provider's published keys) works for queries, an
 * upload and the live progress over graphql-ws. The role comes from the token's claim: an admin sees
 * the operations dashboard, a user does not. A tampered state is refused at the callback.
 */
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { eventually } from '../support/eventually.js';
import { itWithOutputs } from '../support/it-with-outputs.js';
import { MELODY_FIXTURE_DIR } from '../support/melody-fixtures.js';
import { oidcEnv, startOidcProvider, type TestOidcProvider } from '../support/oidc-provider.js';
import { Cleanup, createTestResources, freePort, type TestResources } from '../support/service-harness.js';
import { startApiProcess, startServiceProcess, type ServiceProcess } from '../support/service-processes.js';
import { ensureWebBuild } from '../support/web-build.js';
import { describeIfChromium, launchChromium } from '../support/chromium.js';

const FIXTURE = join(MELODY_FIXTURE_DIR, 'voice-la.flac');

const cleanup = new Cleanup();
let resources: TestResources;
let provider: TestOidcProvider;
let api: ServiceProcess;
let worker: ServiceProcess;
let context: BrowserContext;
let page: Page;

function e2e(name: string, body: () => Promise<void>, timeoutMs = 120_000): void {
  itWithOutputs(name, () => [api, worker], body, timeoutMs);
}

/** From the app's sign-in button through the provider's login and consent pages, back to the app. */
async function signInAs(login: string): Promise<void> {
  // A new person at this browser: no session left at the provider from the one before.
  await context.clearCookies();
  await page.goto(`${api.url}/`);
  await page.getByRole('button', { name: 'Sign in' }).click();
  // The provider's development pages: a login form, then a consent form.
  await page.waitForURL((url) => url.origin === new URL(provider.issuer).origin, { timeout: 30_000 });
  await page.locator('input[name="login"]').fill(login);
  await page.locator('input[name="password"]').fill('any password');
  await page.locator('button[type="submit"]').click();
  const consent = page.locator('button[type="submit"]');
  await Promise.race([
    consent.waitFor({ timeout: 30_000 }).then(() => consent.click()),
    page.waitForURL((url) => url.origin === new URL(api.url!).origin, { timeout: 30_000 }),
  ]);
  await page.getByRole('heading', { level: 1, name: 'Make a song from a melody' }).waitFor({ timeout: 30_000 });
}

async function signOut(): Promise<void> {
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByRole('heading', { level: 1, name: 'Sign in to melody-vocals' }).waitFor();
}

describeIfChromium('signing in to the web app through an OpenID provider', () => {
  beforeAll(async () => {
    ensureWebBuild();
    resources = await createTestResources(cleanup, { storageLabel: 'mv-oidc-e2e-' });
    const providerPort = await freePort();
    api = await startApiProcess(cleanup, { name: 'api', env: { ...resources.env, ...oidcEnv(providerPort) } });
    provider = await startOidcProvider(cleanup, { port: providerPort, appOrigin: api.url! });
    worker = await startServiceProcess(cleanup, { name: 'worker', mode: 'worker', env: { ...resources.env, WORKER_CONCURRENCY: '1' } });
    ({ context, page } = await launchChromium(cleanup));
  }, 180_000);

  afterAll(() => cleanup.run(), 60_000);

  e2e('tells the app about the issuer and lets it connect there (CSP), nothing more', async () => {
    const config = await (await fetch(`${api.url}/app-config.json`)).json();
    expect(config).toEqual({
      oidc: { issuer: provider.issuer, clientId: provider.clientId, scope: provider.scope, audience: provider.audience, roleClaim: 'role' },
    });
    const html = await fetch(`${api.url}/`, { headers: { accept: 'text/html' } });
    await html.text();
    expect(html.headers.get('content-security-policy')).toContain(`connect-src 'self' ${new URL(provider.issuer).origin};`);
    // The callback is an app route (it serves the app, which finishes the sign-in).
    const callback = await fetch(`${api.url}/auth/callback?code=x&state=y`, { headers: { accept: 'text/html' } });
    expect(callback.status).toBe(200);
    await callback.text();
  });

  e2e(
    'signs a user in through the provider (code + PKCE); the token works for the quota, an upload and the live progress',
    async () => {
      await signInAs('alice');
      await expect(page.getByTestId('quota').textContent()).resolves.toContain('10 of 10 conversions left today');
      await expect(page.locator('.who strong').textContent()).resolves.toBe('alice');
      // A user is not offered the operations dashboard.
      await expect(page.getByRole('link', { name: 'Operations' }).count()).resolves.toBe(0);
      // The stored credential is the provider's access token: an ES256 JWT for our audience.
      const token = await page.evaluate(() =>
        (globalThis as unknown as { localStorage: { getItem(k: string): string | null } }).localStorage.getItem('melody-vocals.credential'),
      );
      const header = JSON.parse(Buffer.from(token!.split('.')[0], 'base64url').toString('utf8')) as { alg: string };
      const claims = JSON.parse(Buffer.from(token!.split('.')[1], 'base64url').toString('utf8')) as { aud: string; iss: string };
      expect({ alg: header.alg, aud: claims.aud, iss: claims.iss }).toEqual({ alg: 'ES256', aud: provider.audience, iss: provider.issuer });

      await page.getByLabel('What the song is about').fill('a walk home through the rain at night');
      await page.getByLabel(/^Audio file/).setInputFiles(FIXTURE);
      await page.getByRole('button', { name: 'Make the song' }).click();
      await page.waitForURL(/\/conversions\//, { timeout: 30_000 });
      await eventually(
        'the progress bar shows 100 %',
        () => page.locator('#conversion-progress').evaluate((el) => (el as unknown as { value: number }).value),
        { timeoutMs: 240_000, intervalMs: 200, until: (v) => v === 100 },
      );
      await signOut();
    },
    300_000,
  );

  e2e('gives an admin (role claim ADMIN) the operations dashboard', async () => {
    await signInAs('admin-olga');
    await page.getByRole('link', { name: 'Operations' }).click();
    await page.getByRole('heading', { level: 1, name: 'Operations' }).waitFor({ timeout: 30_000 });
    // The dashboard's admin-only queries answered (not FORBIDDEN): the queue counts are shown.
    await page.getByText('Waiting').first().waitFor({ timeout: 30_000 });
    await expect(page.getByRole('alert').count()).resolves.toBe(0);
    await signOut();
  });

  e2e('refuses a callback whose state does not match the sign-in it started', async () => {
    await context.clearCookies();
    await page.goto(`${api.url}/`);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL((url) => url.origin === new URL(provider.issuer).origin, { timeout: 30_000 });
    // Someone else's callback: the same code path, a state this browser never made.
    await page.goto(`${api.url}/auth/callback?code=forged&state=forged&iss=${encodeURIComponent(provider.issuer)}`);
    await page.getByRole('alert').filter({ hasText: 'Sign-in did not complete' }).waitFor({ timeout: 30_000 });
    await expect(
      page.evaluate(() =>
        (globalThis as unknown as { localStorage: { getItem(k: string): string | null } }).localStorage.getItem('melody-vocals.credential'),
      ),
    ).resolves.toBeNull();
  });
});
