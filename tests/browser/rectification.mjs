// A rectification notice driven to closure through the console's pages in headless Chromium at a
// tablet viewport: the supervisor issues it, the facility acknowledges, reports and uploads a
// photo, the inspector re-checks, the supervisor sees it struck off. Run by
// tests/tests/browser.rs with BASE_URL set; prints `RESULT {"matter_id": ...}` on success.
import { TABLET, base, check, launch, screenshot, signIn } from './lib.mjs';

// A 2x2 PNG, so the upload passes the server's content sniffing.
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAFklEQVQI12P8z8DAwMDAxMDAwMDAAAANHQEDasKb6QAAAABJRU5ErkJggg==',
  'base64');

const browser = await launch();

async function signInNew(username) {
  const page = await (await browser.newContext(TABLET)).newPage();
  page.setDefaultTimeout(30000);
  await signIn(page, username);
  return page;
}

// Submit the form that posts `action` (a hidden input) on the matter page and wait for the page
// it redirects to.
async function act(page, action, fill, button = 'button[type=submit]') {
  const form = page.locator(`form:has(input[name=action][value=${action}])`);
  await fill(form);
  await Promise.all([page.waitForNavigation(), form.locator(button).first().click()]);
  const alert = await page.locator('.alert-error').count();
  check(alert === 0, `${action} accepted (${alert ? await page.locator('.alert-error').first().innerText() : ''})`);
}

async function status(page) {
  return (await page.locator('.badge, .status, [data-status]').first().innerText()).trim();
}

try {
  // 1. The supervisor issues a notice.
  const sup = await signInNew('supervisor');
  await sup.goto(`${base}/matters/new`);
  const option = sup.locator('select[name=facility_id] option', { hasText: '朝阳区第一社会福利院' });
  await sup.selectOption('select[name=facility_id]', await option.getAttribute('value'));
  await sup.check('input[name=kind][value=fire_safety]');
  await sup.check('input[name=severity][value=ordinary]');
  await sup.fill('input[name=title]', '二楼疏散通道堆放杂物');
  await sup.fill('textarea[name=description]', '二楼东侧疏散通道堆放床垫和纸箱。');
  await sup.fill('input[name=basis]', '民发〔2023〕37号');
  await Promise.all([sup.waitForNavigation(), sup.click('form[action="/matters/new"] button[type=submit]')]);
  const m = sup.url().match(/\/matters\/([0-9a-f-]{36})/);
  check(m, `redirected to the new matter (at ${sup.url()})`);
  const id = m[1];
  check((await sup.content()).includes('已下发'), 'the new matter shows 已下发');
  await screenshot(sup, '1-issued');

  // 2. The facility finds it among its notices and works it.
  const fac = await signInNew('facility1');
  await fac.goto(`${base}/notices`);
  await Promise.all([fac.waitForNavigation(), fac.click(`a[href="/matters/${id}"]`)]);
  await act(fac, 'acknowledge', f => f.locator('input[name=handler]').fill('王主任（后勤）'));
  check((await fac.content()).includes('已签收'), 'acknowledged');
  await act(fac, 'feedback', f => f.locator('textarea[name=text]').fill('已组织清理，正在更换防火门闭门器。'));
  check((await fac.content()).includes('已反馈'), 'feedback given');
  const upload = fac.locator(`form[action="/matters/${id}/evidence"]`);
  await upload.locator('input[type=file]').setInputFiles({ name: '清理后.png', mimeType: 'image/png', buffer: PNG });
  await upload.locator('textarea[name=note]').fill('通道已清空');
  await Promise.all([fac.waitForNavigation(), upload.locator('button[type=submit]').click()]);
  check((await fac.locator('.alert-error').count()) === 0, 'evidence accepted');
  check((await fac.content()).includes('待复查'), 'waiting for the re-check');
  await screenshot(fac, '2-evidence');

  // 3. The inspector re-checks it from the re-check list.
  const insp = await signInNew('inspector1');
  await insp.goto(`${base}/rechecks`);
  await Promise.all([insp.waitForNavigation(), insp.click(`a[href="/matters/${id}"]`)]);
  await act(insp, 'recheck', f => f.locator('textarea[name=note]').fill('现场复查，通道畅通。'), 'button[name=passed][value=true]');

  // 4. The supervisor sees it struck off, with its whole timeline, in Chinese and in English.
  await sup.goto(`${base}/matters/${id}`);
  const html = await sup.content();
  check(html.includes('已销号'), 'closed (已销号)');
  for (const step of ['王主任（后勤）', '已组织清理', '通道已清空', '现场复查']) check(html.includes(step), `timeline shows ${step}`);
  await screenshot(sup, '3-closed');
  await Promise.all([sup.waitForNavigation(), sup.click("a.lang")]);
  check((await sup.content()).includes('Closed'), 'English page says Closed');
  console.log(`RESULT ${JSON.stringify({ matter_id: id })}`);
} finally {
  await browser.close();
}
