// A supervisor assigns an inspection through the form at a tablet viewport: one inspector is
// refused with the reason on the page, two are accepted. Prints `RESULT {"assigned": n}`.
import { TABLET, check, launch, screenshot, signIn, base } from './lib.mjs';

const browser = await launch();
try {
  const page = await (await browser.newContext(TABLET)).newPage();
  page.setDefaultTimeout(30000);
  await signIn(page, 'supervisor');
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
  await screenshot(page, 'assign-refused');
  await boxes.nth(1).check();
  await Promise.all([page.waitForNavigation(), submit.click()]);
  check(page.url().includes('/inspections?done=assigned'), `redirected to the list (at ${page.url()})`);
  check(await page.locator('.alert-ok').count() === 1, 'the list confirms the assignment');
  const after = await page.locator('[data-inspection]').count();
  check(after === before + 1, `one more inspection in the list (${before} → ${after})`);
  await screenshot(page, 'assign-done');
  console.log(`RESULT ${JSON.stringify({ assigned: after - before })}`);
} finally {
  await browser.close();
}
