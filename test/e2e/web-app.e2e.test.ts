/**
 * The web app (web/, served by the API from dist/web) in headless Chromium from Debian, driven by
 * playwright-core, against the real service: an API process and a worker process on a PostgreSQL
 * database, Redis prefix and storage directory of this test's own. Proves, as a user would see it:
 * sign-in with a pasted token; the prompt rule shown while typing and an API userError shown next to
 * its field; a take recorded from Chromium's fake microphone (level meter, playback) accepted as
 * WebM/Opus; an uploaded fixture converted with the progress bar reaching 100 % (also after a reload
 * mid-way); the vocals play (a duration, a clock that advances) with the karaoke highlight moving;
 * the MIDI downloads; a rating is saved; the conversion is in the history with a link back; another
 * user cannot open it; a running conversion can be cancelled; an admin's operations dashboard changes
 * live while a conversion runs; and axe-core finds no serious or
 * critical accessibility violation on any page.
 *
 * Chromium is the Debian package (`.ci/apt-packages`); outside CI the suite is skipped when it is
 * not installed. SCREENSHOTS_DIR=docs/screenshots also writes the README's screenshots.
 */
import { spawn } from 'node:child_process';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { AxeBuilder } from '@axe-core/playwright';
import { ffmpegPath } from '../../src/platform/ffmpeg-decoder.js';
import { postGraphQL, uploadConversion } from '../support/api-harness.js';
import { eventually } from '../support/eventually.js';
import { itWithOutputs } from '../support/it-with-outputs.js';
import { MELODY_FIXTURE_DIR } from '../support/melody-fixtures.js';
import { Role } from '../../src/modules/user/user.entity.js';
import { Cleanup, createTestResources, mintToken, type TestResources } from '../support/service-harness.js';
import { startApiProcess, startServiceProcess, type ServiceProcess } from '../support/service-processes.js';
import { ensureWebBuild } from '../support/web-build.js';
import { describeIfChromium, launchChromium } from '../support/chromium.js';

const CHROMIUM_EXTRA_FLAGS = [
  // The test starts playback itself (no user gesture in an automated page).
  '--autoplay-policy=no-user-gesture-required',
  // The microphone: Chromium's fake capture device (a beeping tone), allowed without a prompt.
  '--use-fake-device-for-media-stream',
  '--use-fake-ui-for-media-stream',
];
const FIXTURE = join(MELODY_FIXTURE_DIR, 'voice-la.flac');
const PROMPT = 'a summer night by the sea with old friends';
const DESKTOP = { width: 1280, height: 900 };
const PHONE = { width: 390, height: 844 };
const screenshotsDir = process.env.SCREENSHOTS_DIR;

/** The parts of the page's DOM the test reads (the test's own tsconfig has no DOM library). */
interface MediaElement {
  duration: number;
  currentTime: number;
  play(): Promise<void>;
  pause(): void;
}
interface Browser {
  document: { activeElement: { tagName: string; textContent: string | null } | null };
}

const cleanup = new Cleanup();
let resources: TestResources;
let api: ServiceProcess;
let worker: ServiceProcess;
let page: Page;
/** The conversion made by the upload case (its global id). */
let conversionId = '';

const alice = () => mintToken(resources.jwtSecret, 'alice');
const bob = () => mintToken(resources.jwtSecret, 'bob');
const operator = () => mintToken(resources.jwtSecret, 'operator', Role.ADMIN);

function e2e(name: string, body: () => Promise<void>, timeoutMs = 120_000): void {
  itWithOutputs(name, () => [api, worker], body, timeoutMs);
}

/** `times` copies of a FLAC file, one after another, as one FLAC (a conversion long enough to cancel). */
async function repeatFlac(path: string, times: number, out: string): Promise<void> {
  const ffmpeg = spawn(ffmpegPath(), [
    '-hide_banner',
    '-loglevel',
    'error',
    '-stream_loop',
    String(times - 1),
    '-i',
    path,
    '-c:a',
    'flac',
    '-y',
    out,
  ]);
  const code = await new Promise<number | null>((resolve) => ffmpeg.once('close', resolve));
  if (code !== 0) throw new Error(`ffmpeg exited with ${code}`);
}

/** Axe-core on the page as it is now: no serious or critical violation. */
async function expectAccessible(what: string): Promise<void> {
  const results = await new AxeBuilder({ page }).analyze();
  const bad = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  expect({
    page: what,
    violations: bad.map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`),
  }).toEqual({
    page: what,
    violations: [],
  });
}

/** Writes `<name>-desktop.png` and `<name>-phone.png` when SCREENSHOTS_DIR is set. */
async function screenshots(name: string): Promise<void> {
  if (!screenshotsDir) return;
  await mkdir(screenshotsDir, { recursive: true });
  for (const [label, size] of [
    ['desktop', DESKTOP],
    ['phone', PHONE],
  ] as const) {
    await page.setViewportSize(size);
    await page.screenshot({ path: join(screenshotsDir, `${name}-${label}.png`), fullPage: true });
  }
  await page.setViewportSize(DESKTOP);
}

async function signIn(token: string): Promise<void> {
  await page.goto(`${api.url}/`);
  await page.getByLabel('Token or API key').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { level: 1, name: 'Make a song from a melody' }).waitFor();
}

async function signOut(): Promise<void> {
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByRole('heading', { level: 1, name: 'Sign in to melody-vocals' }).waitFor();
}

/** The progress bar's value now. */
async function progressValues(): Promise<number> {
  return page.locator('#conversion-progress').evaluate((el) => (el as unknown as { value: number }).value);
}

describeIfChromium('the web app in Chromium', () => {
  beforeAll(async () => {
    ensureWebBuild();
    resources = await createTestResources(cleanup, { storageLabel: 'mv-web-e2e-' });
    api = await startApiProcess(cleanup, { name: 'api', env: resources.env });
    worker = await startServiceProcess(cleanup, { name: 'worker', mode: 'worker', env: { ...resources.env, WORKER_CONCURRENCY: '1' } });
    ({ page } = await launchChromium(cleanup, { args: CHROMIUM_EXTRA_FLAGS, viewport: DESKTOP, acceptDownloads: true }));
  }, 180_000);

  afterAll(() => cleanup.run(), 60_000);

  e2e('serves the app at its routes with a CSP, no-cache HTML and long-cached hashed assets, and JSON 404 elsewhere', async () => {
    const html = await fetch(`${api.url}/history`, { headers: { accept: 'text/html' } });
    expect(html.status).toBe(200);
    expect(html.headers.get('cache-control')).toBe('no-cache');
    expect(html.headers.get('content-security-policy')).toContain("script-src 'self'");
    const script = /src="(\/assets\/[^"]+\.js)"/.exec(await html.text())![1];
    const asset = await fetch(`${api.url}${script}`);
    await asset.arrayBuffer();
    expect(asset.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    // Paths that are not the app's routes stay the API's JSON 404, even for a browser.
    const unknown = await fetch(`${api.url}/no-such-page`, { headers: { accept: 'text/html' } });
    expect({ status: unknown.status, type: unknown.headers.get('content-type') }).toEqual({
      status: 404,
      type: expect.stringContaining('application/json'),
    });
  });

  e2e('signs in with a pasted token; shows the prompt rule while typing and an API userError next to its field', async () => {
    await page.goto(`${api.url}/`);
    await expectAccessible('sign-in');
    await screenshots('sign-in');
    await signIn(alice());
    await expect(page.getByTestId('quota').textContent()).resolves.toContain('10 of 10 conversions left today');
    await expectAccessible('create');

    await page.getByLabel('What the song is about').fill('too short');
    await expect(page.locator('#prompt-count').textContent()).resolves.toContain('9 characters · 10 to 500 needed (1 more)');
    await page.getByLabel('What the song is about').fill(PROMPT);
    await expect(page.locator('#prompt-count').textContent()).resolves.toBe(`${PROMPT.length} characters · 10 to 500 needed`);
    // An empty genre passes the form and is refused by the API (INVALID_GENRE, field genre).
    await page.getByLabel('Genre').fill('');
    await page.getByLabel(/^Audio file/).setInputFiles(FIXTURE);
    await page.getByRole('button', { name: 'Make the song' }).click();
    await page.locator('#genre-error').filter({ hasText: 'genre must be 1–40 characters' }).waitFor({ timeout: 30_000 });
    await expect(page.getByLabel('Genre').getAttribute('aria-describedby')).resolves.toBe('genre-error');
    await screenshots('create');
  });

  e2e(
    'uploads a melody and follows it to 100 %, also after a reload, then plays it with the karaoke highlight moving',
    async () => {
      await page.getByLabel('Genre').fill('folk');
      await page.getByLabel('Mood').fill('nostalgic');
      await page.getByRole('button', { name: 'Make the song' }).click();
      await page.waitForURL(/\/conversions\//, { timeout: 30_000 });
      conversionId = decodeURIComponent(new URL(page.url()).pathname.split('/').pop()!);
      await page.locator('#conversion-progress').waitFor();
      // Focus moved to the new page's title.
      await expect(page.evaluate(() => (globalThis as unknown as Browser).document.activeElement?.tagName)).resolves.toBe('H1');
      await expectAccessible('conversion (running)');
      // A reload mid-way: the subscription's first event is the stored state, then it goes on.
      await page.reload();
      await page.locator('#conversion-progress').waitFor();
      await eventually('the progress bar shows 100 %', progressValues, { timeoutMs: 240_000, intervalMs: 100, until: (v) => v === 100 });
      await expect(page.getByTestId('progress-percent').textContent()).resolves.toBe('100 %');

      const audio = page.locator('audio#vocals');
      await audio.waitFor({ timeout: 30_000 });
      const duration = await eventually(
        'the audio element knows its duration',
        () => audio.evaluate((el) => (el as unknown as MediaElement).duration),
        {
          until: (d) => Number.isFinite(d) && d > 0,
        },
      );
      expect(duration).toBeGreaterThan(8); // voice-la is 10.7 s
      const syllables = page.locator('.karaoke .syllable');
      expect(await syllables.count()).toBeGreaterThan(5);
      // The waveform: decoded in the page, most of its 400 columns carry sound (the song fills the file).
      const waveform = page.getByRole('slider', { name: /Waveform of the vocals/ });
      await waveform.waitFor({ timeout: 30_000 });
      expect(Number(await waveform.getAttribute('data-columns'))).toBeGreaterThan(200);
      // A click at its middle moves the player to the middle of the song; End to its end.
      const box = (await waveform.boundingBox())!;
      await waveform.click({ position: { x: box.width / 2, y: box.height / 2 } });
      const middle = await eventually(
        'the player moved to the clicked place',
        () => audio.evaluate((el) => (el as unknown as MediaElement).currentTime),
        {
          until: (t) => t > 0,
        },
      );
      expect(Math.abs(middle - duration / 2)).toBeLessThan(duration * 0.05);
      await waveform.press('Home');
      await eventually('Home moves the player to the start', () => audio.evaluate((el) => (el as unknown as MediaElement).currentTime), {
        until: (t) => t === 0,
      });
      await expectAccessible('conversion (completed)');
      await screenshots('conversion');

      await audio.evaluate((el) => (el as unknown as MediaElement).play());
      const singingAt = () =>
        page.locator('.karaoke .syllable').evaluateAll((els) => els.findIndex((el) => el.getAttribute('data-state') === 'singing'));
      const first = await eventually('a syllable is highlighted', singingAt, { timeoutMs: 20_000, until: (i) => i >= 0 });
      await eventually('the highlight moves on to a later syllable', singingAt, { timeoutMs: 20_000, until: (i) => i > first });
      await screenshots('listening');
      const time = await audio.evaluate((el) => (el as unknown as MediaElement).currentTime);
      expect(time).toBeGreaterThan(0);
      await audio.evaluate((el) => (el as unknown as MediaElement).pause());
    },
    300_000,
  );

  e2e('downloads the MIDI and saves a rating', async () => {
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Score (MIDI)' }).click()]);
    const path = await download.path();
    const bytes = await readFile(path);
    expect(bytes.subarray(0, 4).toString('latin1')).toBe('MThd');

    await page.getByRole('radio', { name: '4 stars' }).check();
    await page.getByLabel('Comment (optional)').fill('Lovely tune');
    await page.getByLabel('Favourite').check();
    await page.getByRole('button', { name: 'Save rating' }).click();
    await page.getByRole('status').filter({ hasText: 'your rating is saved' }).waitFor({ timeout: 15_000 });
    const answer = await postGraphQL<{ conversion: { feedback: { rating: number; comment: string; favorite: boolean } } }>(
      { url: api.url! },
      'query ($id: ID!) { conversion(id: $id) { feedback { rating comment favorite } } }',
      { id: conversionId },
      alice(),
    );
    expect(answer.body.data?.conversion.feedback).toEqual({ rating: 4, comment: 'Lovely tune', favorite: true });
  });

  e2e('lists the conversion in the history, filtered by status, with a link back', async () => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'History' }).click();
    await page.getByRole('heading', { level: 1, name: 'Your conversions' }).waitFor();
    await expect(page.evaluate(() => (globalThis as unknown as Browser).document.activeElement?.textContent)).resolves.toBe(
      'Your conversions',
    );
    const link = page.locator('.history').getByRole('link', { name: PROMPT });
    await link.waitFor();
    await page.getByLabel('Show').selectOption('FAILED');
    await page.getByText('0 in all').waitFor();
    await page.getByLabel('Show').selectOption('COMPLETED');
    await link.waitFor();
    await expectAccessible('history');
    await screenshots('history');
    await link.click();
    await page.locator('audio#vocals').waitFor();
  });

  e2e('cancels a running conversion', async () => {
    const long = join(resources.storageDir, '..', `mv-web-e2e-long-${process.pid}.flac`);
    await repeatFlac(FIXTURE, 6, long);
    cleanup.add(() => rm(long, { force: true }));
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Create' }).click();
    await page.getByLabel(/^Audio file/).setInputFiles(long);
    await page.getByLabel('What the song is about').fill('a long walk home in the rain');
    await page.getByRole('button', { name: 'Make the song' }).click();
    await page.waitForURL(/\/conversions\//, { timeout: 30_000 });
    await page.getByRole('button', { name: 'Cancel' }).click();
    await page.getByRole('heading', { level: 2, name: 'Cancelled' }).waitFor({ timeout: 30_000 });
    await expectAccessible('conversion (cancelled)');
  });

  e2e('records from the microphone with a level meter, plays the take back and sends it (WebM/Opus accepted)', async () => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Create' }).click();
    await page.getByRole('button', { name: 'Record with the microphone' }).click();
    const meter = page.getByRole('meter', { name: 'Input level' });
    await meter.waitFor();
    await eventually('the level meter moves', () => meter.evaluate((el) => (el as unknown as { value: number }).value), {
      timeoutMs: 10_000,
      until: (level) => level > 0.01,
    });
    // Recording until 3 s have been captured (the counter beside the meter), then stop.
    await eventually('3 s are recorded', async () => parseFloat((await page.locator('.level span').textContent()) ?? '0'), {
      timeoutMs: 20_000,
      until: (seconds) => seconds >= 3,
    });
    await page.getByRole('button', { name: 'Stop recording' }).click();
    const take = page.locator('.take audio');
    await take.waitFor();
    await expect(page.locator('#audio-chosen').textContent()).resolves.toMatch(/^Chosen: recording\.webm/);
    await page.getByLabel('What the song is about').fill('a beeping robot learns to sing');
    await page.getByRole('button', { name: 'Make the song' }).click();
    await page.waitForURL(/\/conversions\//, { timeout: 30_000 });
    await page.locator('#conversion-progress').waitFor();
    const id = decodeURIComponent(new URL(page.url()).pathname.split('/').pop()!);
    const answer = await postGraphQL<{ conversion: { input: { format: string; codec: string; durationSeconds: number } } }>(
      { url: api.url! },
      'query ($id: ID!) { conversion(id: $id) { input { format codec durationSeconds } } }',
      { id },
      alice(),
    );
    expect(answer.body.data?.conversion.input).toMatchObject({ format: 'webm', codec: 'opus' });
    expect(answer.body.data!.conversion.input.durationSeconds).toBeGreaterThan(2);
    // A beeping tone may or may not make a song: either way the page ends on the result or on the
    // error in words with what to do next.
    await page.locator('audio#vocals').or(page.getByText('What to do next:')).first().waitFor({ timeout: 100_000 });
  });

  e2e(
    'shows an admin a live operations dashboard that changes while a conversion runs',
    async () => {
      await signOut();
      await signIn(operator());
      await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Operations' }).click();
      await page.getByRole('heading', { level: 1, name: 'Operations' }).waitFor({ timeout: 30_000 });
      const line = page.locator('p', { has: page.getByTestId('tick') });
      await eventually('the first live update arrives', () => page.getByTestId('tick').textContent(), {
        until: (t) => /^\d+$/.test(t ?? ''),
      });
      await expect(line.textContent()).resolves.toContain('0 running');
      // A conversion that runs for seconds, not one the warm worker finishes between two of the dashboard's updates
      // (a 10 s clip converts in under a second).
      const long = join(resources.storageDir, '..', `mv-web-e2e-dashboard-${process.pid}.flac`);
      await repeatFlac(FIXTURE, 6, long);
      cleanup.add(() => rm(long, { force: true }));
      const upload = await uploadConversion(
        { url: api.url! },
        { token: alice(), file: { bytes: new Uint8Array(await readFile(long)), name: 'voice-la-x6.flac', type: 'audio/flac' } },
      );
      expect(upload.body.data?.convertMelody.userErrors).toEqual([]);
      await eventually('the dashboard shows the conversion waiting or running', () => line.textContent(), {
        timeoutMs: 60_000,
        until: (text) => /[1-9]\d* (waiting|running)/.test(text ?? ''),
      });
      await page.locator('.u-over').waitFor(); // uPlot drew its chart
      await eventually('the analytics count the conversions', () => page.getByTestId('total').textContent(), {
        timeoutMs: 30_000,
        until: (total) => Number(total) >= 3,
      });
      await expectAccessible('operations');
      await screenshots('operations');
      await eventually('the dashboard shows the queue empty again', () => line.textContent(), {
        timeoutMs: 240_000,
        until: (text) => (text ?? '').includes('0 waiting, 0 running'),
      });
    },
    300_000,
  );

  e2e('does not show one user’s conversion to another', async () => {
    await signOut();
    await signIn(bob());
    await page.goto(`${api.url}/conversions/${encodeURIComponent(conversionId)}`);
    await page.getByRole('heading', { level: 1, name: 'Conversion not found' }).waitFor();
    expect(await page.locator('audio').count()).toBe(0);
    await expectAccessible('conversion (not found)');
  });
});
