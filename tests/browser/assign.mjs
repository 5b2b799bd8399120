// A supervisor assigns an inspection through the form at a tablet viewport: one inspector is
// refused with the reason on the page, two are accepted. Prints `RESULT {"assigned": n}`.
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);
const { chromium } = require(path.join(process.env.PLAYWRIGHT_DIR, 'playwright-core'));
const base = process.env.BASE_URL;
const shots = process.env.SHOT_DIR;
function check(cond, what) { if (!cond) throw new Error(`check failed: ${what}`); }

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
try {
  const ctx = await browser.newContext({ viewport: { width: 820, height: 1180 }, hasTouch: true, isMobile: true, locale: 'zh-CN' });
  const page = await ctx.newPage();
  page.setDefaultTimeout(30000);
  await page.goto(`${base}/login`);
  await page.fill('input[name=username]', 'supervisor');
  await page.fill('input[name=password]', 'qingling-demo');
  await Promise.all([page.waitForNavigation(), page.click('form[action="/login"] button[type=submit]')]);
  await page.goto(`${base}/inspections`);
  const before = await page.locator('[data-inspection]').count();
  await Promise.all([page.waitForNavigation(), page.click('a[href="/inspections/new"]')]);
  const option = page.locator('select[name=facility_id] option', { hasText: '朝阳区第一社会福利院' });
  await page.selectOption('select[name=facility_id]', await option.getAttribute('value'));
  await page.check('input[name=template][value="gb38600-service-safety"]');
  const boxes = page.locator('input[name=inspector]');
  check(await boxes.count() >= 2, 'the region has two inspectors to choose');
  await boxes.nth(0).check();
  const submit = page.locator('form[action="/inspections/new"] button[type=submit]');
  await Promise.all([page.waitForNavigation(), submit.click()]);
  const alert = page.locator('.alert-error');
  check(await alert.count() === 1, 'one inspector is refused');
  check((await alert.innerText()).includes('2'), `the refusal names the minimum (${await alert.innerText()})`);
  check(await page.locator('input[name=template][value="gb38600-service-safety"]').isChecked(), 'the form keeps the choices');
  if (shots) await page.screenshot({ path: path.join(shots, 'assign-refused.png'), fullPage: true });
  await boxes.nth(1).check();
  await Promise.all([page.waitForNavigation(), submit.click()]);
  check(page.url().includes('/inspections?done=assigned'), `redirected to the list (at ${page.url()})`);
  check(await page.locator('.alert-ok').count() === 1, 'the list confirms the assignment');
  const after = await page.locator('[data-inspection]').count();
  check(after === before + 1, `one more inspection in the list (${before} → ${after})`);
  if (shots) await page.screenshot({ path: path.join(shots, 'assign-done.png'), fullPage: true });
  console.log(`RESULT ${JSON.stringify({ assigned: after - before })}`);
} finally {
  await browser.close();
}
