/**
 * Debian's Chromium for the browser tests (`.ci/apt-packages` installs it in CI): where it is, the
 * flags every test run needs, and `describeIfChromium`, which skips a suite on a machine without it
 * (never in CI, where its absence fails the run).
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import type { Cleanup } from './service-harness.js';

export const CHROMIUM = '/usr/bin/chromium';

/** Headless, no sandbox (tests run as root in CI), and nothing that talks to the internet. */
export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

const available = existsSync(CHROMIUM);
if (!available && process.env.CI) throw new Error(`${CHROMIUM} is missing: CI installs it from .ci/apt-packages.`);

/** `describe` where Chromium is installed, `describe.skip` elsewhere (outside CI). */
export const describeIfChromium = available ? describe : describe.skip;

/** A fresh profile in a temporary folder, closed and removed by `cleanup`; its first page. */
export async function launchChromium(
  cleanup: Cleanup,
  options: { args?: string[]; viewport?: { width: number; height: number }; acceptDownloads?: boolean } = {},
): Promise<{ context: BrowserContext; page: Page }> {
  const profile = await mkdtemp(join(tmpdir(), 'mv-chromium-'));
  cleanup.add(() => rm(profile, { recursive: true, force: true }));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [...CHROMIUM_FLAGS, ...(options.args ?? [])],
    viewport: options.viewport,
    acceptDownloads: options.acceptDownloads,
  });
  cleanup.add(() => context.close());
  const page = context.pages()[0] ?? (await context.newPage());
  return { context, page };
}
