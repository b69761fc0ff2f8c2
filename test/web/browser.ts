// Headless Chromium for the browser tests: Debian's `chromium` package (installed by .ci/run),
// driven by playwright-core, which downloads no browser of its own.
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { repositoryRoot } from '../../src/testing/service-process.ts';

export const chromiumPath = '/usr/bin/chromium';
/** Screenshots of every page, kept as test artifacts (git-ignored). */
export const screenshotDirectory = join(repositoryRoot, 'test-output', 'web');

export function chromiumMissing(): string | false {
  return existsSync(chromiumPath) ? false : `${chromiumPath} is missing (Debian package chromium): skipped`;
}

export async function launchBrowser(): Promise<Browser> {
  mkdirSync(screenshotDirectory, { recursive: true });
  return await chromium.launch({
    executablePath: chromiumPath,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}
