// An administrator loads a year's holiday schedule through the calendar page in headless
// Chromium: a schedule missing a statutory day is refused with the date named, a good one is
// shown as a 12-month calendar for review, then saved. Run by tests/tests/browser.rs with YEAR,
// HOLIDAYS (comma-separated, the statutory days) and EXPECT_BANNER; prints `RESULT {...}`.
import { TABLET, base, check, launch, screenshot, signIn } from './lib.mjs';

const year = process.env.YEAR;
const statutory = process.env.HOLIDAYS.split(',');
const browser = await launch();
try {
  const page = await (await browser.newContext(TABLET)).newPage();
  page.setDefaultTimeout(30000);
  await signIn(page, 'admin');
  const banner = await page.locator('.banner-calendar').count();
  check(banner === (process.env.EXPECT_BANNER === '1' ? 1 : 0), `the missing-schedule banner is shown exactly when due (${banner})`);
  await page.goto(`${base}/admin/calendar`);
  check((await page.locator('h1').innerText()).includes('工作日历'), 'the calendar page');
  check((await page.locator('.badge-provisional').count()) >= 1, `${year} is listed as provisional`);

  // 1. A schedule without 元旦 is refused, naming the date.
  const form = page.locator('form:has(input[name=intent][value=review])');
  await form.locator('input[name=year]').fill(year);
  await form.locator('input[name=source]').fill(`国办发明电〔${year - 1}〕测试2号`);
  await form.locator('textarea[name=holidays]').fill(statutory.filter((d) => !d.endsWith('-01-01')).join('\n'));
  await Promise.all([page.waitForNavigation(), form.locator('button[type=submit]').click()]);
  const error = await page.locator('.alert-error').innerText();
  check(error.includes(`${year}-01-01`), `the refusal names the date: ${error}`);
  await screenshot(page, 'calendar-refused');

  // 2. The full schedule, with bridging days and one make-up Saturday, reviewed as a calendar.
  const form2 = page.locator('form:has(input[name=intent][value=review])');
  await form2.locator('textarea[name=holidays]').fill([...statutory, `${year}-01-04 ~ ${year}-01-05`].join('\n'));
  const saturday = [...Array(31).keys()].map((d) => new Date(Date.UTC(+year, 1, d + 1))).find((d) => d.getUTCDay() === 6 && d.getUTCDate() > 14);
  const makeup = saturday.toISOString().slice(0, 10);
  await form2.locator('textarea[name=workdays]').fill(makeup);
  await Promise.all([page.waitForNavigation(), form2.locator('button[type=submit]').click()]);
  check((await page.locator('.alert-error').count()) === 0, 'the schedule is accepted for review');
  check((await page.locator('#review .month').count()) === 12, 'twelve months are shown');
  check((await page.locator('#review td.makeup').count()) === 1, 'one make-up working day');
  check((await page.locator('#review td.changed').count()) >= 2, 'the changes against today are outlined');
  await screenshot(page, 'calendar-review');

  // 3. Saved.
  await Promise.all([page.waitForNavigation(), page.locator('#review button[type=submit]').click()]);
  const done = await page.locator('.alert-ok').innerText();
  check(done.includes(year), `saved: ${done}`);
  const row = page.locator('tr', { hasText: `国办发明电〔${year - 1}〕测试2号` });
  check((await row.count()) === 1 && (await row.locator('.badge-ok').count()) === 1, `${year} is published now`);
  await screenshot(page, 'calendar-saved');
  console.log(`RESULT ${JSON.stringify({ year: +year, makeup })}`);
} finally {
  await browser.close();
}
