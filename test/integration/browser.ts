import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { chromium, type BrowserContext } from 'playwright-core';

/** Debian's Chromium, which scripts/ensure-deps.sh installs; playwright downloads no browser here. */
export const CHROMIUM = process.env.PGREPL_CHROMIUM ?? '/usr/bin/chromium';

/** Why browser tests cannot run, or false when they can. */
export function noBrowser(): string | false {
  return existsSync(CHROMIUM) ? false : `${CHROMIUM} not found: run \`npm run deps\` (apt-get install chromium) to run the browser tests`;
}

/**
 * A headless Chromium with a fresh profile that reaches nothing by itself (no updates, sync or
 * background requests), closed and removed after the test even when it fails.
 */
export async function browser(t: TestContext): Promise<BrowserContext> {
  const profile = await mkdtemp(join(tmpdir(), 'pgrepl-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1280, height: 1000 },
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  t.after(async () => {
    await context.close().catch(() => undefined);
    await rm(profile, { recursive: true, force: true });
  });
  return context;
}
