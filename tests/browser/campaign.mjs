// A supervisor runs a 双随机 campaign through the pages at a tablet viewport: previews a recurring
// plan's next five runs, plans a one-off campaign (the commitment is published at once), holds the
// draw ceremony (a value that is not numbers is refused with what was typed kept, then the
// sources' values and two witnesses), sets the draw aside with a reason and draws again, tries a replacement the committed directory does not have
// (refused with the reason), confirms the teams; then the public reads the campaign signed out.
// Prints `RESULT {"campaign_id": …, "commitment": …, "homes": n}`.
import { TABLET, check, launch, screenshot, signIn, base } from './lib.mjs';

const browser = await launch();
try {
  const page = await (await browser.newContext(TABLET)).newPage();
  page.setDefaultTimeout(30000);
  await signIn(page, 'supervisor');
  await page.goto(`${base}/board`);
  await Promise.all([page.waitForNavigation(), page.click('nav a[href="/campaigns"]')]);

  // A recurring plan's next runs, before anything is saved.
  await page.fill('input[name=cron]', '0 9 1 * *');
  await Promise.all([page.waitForNavigation(), page.click('button[value=preview]')]);
  check(await page.locator('[data-run]').count() === 5, `five runs previewed (${await page.locator('#runs').innerText().catch(() => 'none')})`);
  check(await page.inputValue('input[name=cron]') === '0 9 1 * *', 'the form keeps the expression');
  await screenshot(page, 'campaign-runs');

  // A one-off plan: every Chaoyang home (100 % of each class), the fire-safety checklist.
  await page.fill('input[name=title]', '朝阳区养老机构消防安全双随机抽查（页面）');
  await page.check('input[name=template][value="fire-major-hazard"]');
  for (const k of ['a', 'b', 'c', 'd']) await page.fill(`input[name=ratio_${k}]`, '100');
  await page.fill('input[name=window]', '60s');
  await page.locator('input[name=source_name]').nth(0).fill('中国福利彩票双色球第2026140期开奖号码（红球）');
  await page.fill('input[name=cron]', '');
  await Promise.all([page.waitForNavigation(), page.click('button[value=plan]')]);
  const id = new URL(page.url()).pathname.split('/').pop();
  check(/^[0-9a-f-]{36}$/.test(id), `on the campaign's page (at ${page.url()})`);
  const commitment = (await page.locator('[data-commitment]').innerText()).trim();
  check(/^[0-9a-f]{64}$/.test(commitment), `the commitment's digest is shown (${commitment})`);
  check(await page.getAttribute('#status', 'data-status') === 'committed', 'committed before the draw');
  await screenshot(page, 'campaign-committed');

  // The ceremony: a value that is not numbers is refused, and what was typed stays.
  await page.fill('#draw input[name=value]', '九 十八');
  await page.fill('#draw textarea[name=witnesses]', '李见证\n张见证');
  await Promise.all([page.waitForNavigation(), page.click('#draw button[type=submit]')]);
  check(await page.locator('.alert-error').count() === 1, 'the value is refused on the page');
  check((await page.inputValue('#draw textarea[name=witnesses]')).includes('张见证'), 'the witnesses stay typed');
  await page.fill('#draw input[name=value]', '9 18 26 34 41 45');
  await Promise.all([page.waitForNavigation(), page.click('#draw button[type=submit]')]);
  check(page.url().includes('done=drawn'), `drawn (at ${page.url()}: ${await page.locator('.alert').allInnerTexts()})`);
  check(await page.getAttribute('#status', 'data-status') === 'drawn', 'the status says drawn');
  check((await page.locator('[data-key]').innerText()).includes('9.18.26.34.41.45./'), 'the RFC 3797 key string is shown');
  const homes = await page.locator('[data-home]').count();
  check(homes === 3, `every Chaoyang home is drawn (${homes})`);
  check(await page.locator('[data-home] [data-member]').count() === homes * 2, 'a team of two for each');
  await screenshot(page, 'campaign-drawn');

  // A draw entered wrongly is set aside with a reason (kept, and shown), then drawn again.
  await page.fill('#supersede input[name=reason]', '红球号码录入错误');
  await Promise.all([page.waitForNavigation(), page.click('#supersede button[type=submit]')]);
  check(await page.getAttribute('#status', 'data-status') === 'committed', `back to committed (${await page.locator('.alert').allInnerTexts()})`);
  check((await page.locator('#superseded').innerText()).includes('红球号码录入错误'), 'the draw set aside is listed with its reason');
  await page.fill('#draw input[name=value]', '9 18 26 34 41 46');
  await page.fill('#draw textarea[name=witnesses]', '李见证\n张见证');
  await Promise.all([page.waitForNavigation(), page.click('#draw button[type=submit]')]);
  check(await page.getAttribute('#status', 'data-status') === 'drawn', 'drawn again');
  check((await page.locator('[data-key]').innerText()).includes('9.18.26.34.41.46./'), 'with the new values');

  // A replacement from outside the committed directory is refused with the reason.
  await page.fill('#reassign input[name=in]', '京执999999-0000');
  await page.fill('#reassign input[name=reason]', '病假');
  await Promise.all([page.waitForNavigation(), page.click('#reassign button[type=submit]')]);
  const refusal = await page.locator('.alert-error').innerText();
  check(refusal.includes('京执999999-0000'), `the refusal names the inspector (${refusal})`);
  check(await page.inputValue('#reassign input[name=reason]') === '病假', 'the reason stays typed');

  // The teams go: one inspection per home.
  await Promise.all([page.waitForNavigation(), page.click('#assign button[type=submit]')]);
  check(await page.getAttribute('#status', 'data-status') === 'assigned', `assigned (${await page.locator('.alert').allInnerTexts()})`);
  // Each inspection's own workflow stores it a moment after the teams go: the page shows it on reload.
  for (let i = 0; i < 40 && await page.locator('[data-inspection-status=assigned]').count() < homes; i++) {
    await page.waitForTimeout(500);
    await page.reload();
  }
  check(await page.locator('[data-inspection-status=assigned]').count() === homes, 'each home has its inspection');
  check(await page.locator('[data-event=drawn]').count() === 2 && await page.locator('[data-event=draw_superseded]').count() === 1 && await page.locator('[data-event=assigned]').count() === 1, 'the events list both draws, the one set aside, and the teams');
  await screenshot(page, 'campaign-assigned');

  // The public, signed out, reads the commitment and the draw; no home is named before its inspection.
  const publicPage = await (await browser.newContext(TABLET)).newPage();
  await publicPage.goto(`${base}/public`);
  await Promise.all([publicPage.waitForNavigation(), publicPage.click(`a[href="/public/campaigns/${id}"]`)]);
  const text = await publicPage.locator('main').innerText();
  check(text.includes(commitment), 'the public page shows the same commitment');
  check(text.includes('李见证'), 'and the witnesses');
  check(!text.includes('朝阳区第一社会福利院'), 'and no home before its inspection is done');
  await screenshot(publicPage, 'campaign-public');
  console.log(`RESULT ${JSON.stringify({ campaign_id: id, commitment, homes })}`);
} finally {
  await browser.close();
}
