// What every browser script needs: Playwright from .tools/node (PLAYWRIGHT_DIR), Debian's
// Chromium started so that it never reaches for the network, the tablet viewport, a check that
// names what failed, screenshots into SHOT_DIR, and signing in through the login page.
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);
const { chromium } = require(path.join(process.env.PLAYWRIGHT_DIR, 'playwright-core'));

export const base = process.env.BASE_URL;
export const PASSWORD = process.env.PASSWORD || 'qingling-demo';
/** An iPad-sized portrait tablet, Chinese first. */
export const TABLET = { viewport: { width: 820, height: 1180 }, hasTouch: true, isMobile: true, deviceScaleFactor: 1, locale: 'zh-CN' };

export function check(cond, what) {
  if (!cond) throw new Error(`check failed: ${what}`);
}

export function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

export async function screenshot(page, name, fullPage = true) {
  if (process.env.SHOT_DIR) await page.screenshot({ path: path.join(process.env.SHOT_DIR, `${name}.png`), fullPage });
}

// Anything the pages' Content-Security-Policy blocked fails the script at exit: a page that
// needs an inline script or style would otherwise lose it silently.
const cspViolations = [];
process.on('exit', () => {
  if (cspViolations.length) {
    console.error(`check failed: the CSP blocked ${cspViolations.length} thing(s):\n${cspViolations.join('\n')}`);
    process.exitCode = 1;
  }
});

function watchCsp(page) {
  page.on('console', (m) => {
    if (/Content.Security.Policy/i.test(m.text())) cspViolations.push(m.text());
  });
}

/** Signs `username` in through the login form on `page` (optionally going on to `next`). */
export async function signIn(page, username, next) {
  watchCsp(page);
  await page.goto(next ? `${base}/login?next=${encodeURIComponent(next)}` : `${base}/login`);
  await page.fill('input[name=username]', username);
  await page.fill('input[name=password]', PASSWORD);
  await Promise.all([page.waitForNavigation(), page.click('form[action="/login"] button[type=submit]')]);
  check(!new URL(page.url()).pathname.startsWith('/login'), `${username} signed in (at ${page.url()})`);
}
