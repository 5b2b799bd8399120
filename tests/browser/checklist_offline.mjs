// An inspection filled in on a tablet that loses its network half-way: headless Chromium at an iPad
// viewport signs in as the inspector, opens the checklist, answers a few items, goes offline,
// answers more (a failed item with a note and a photo among them), reloads the page while still
// offline (the service worker serves it, IndexedDB restores every answer), comes back online and
// syncs, answers every remaining required item, has the second inspector co-sign on the same
// tablet, submits, and reads the notice numbers off the result.
//
// Run by the Rust test with BASE_URL, PLAYWRIGHT_DIR, CHROMIUM, SHOT_DIR and INSPECTION_ID (an
// inspection assigned to INSPECTOR and COSIGNER); prints
// `RESULT {"inspection_id": ..., "notice_numbers": [...], ...}` on success.
import zlib from 'node:zlib';
import { PASSWORD, TABLET, base, check, launch, screenshot, signIn } from './lib.mjs';

const inspectionId = process.env.INSPECTION_ID;
const inspector = process.env.INSPECTOR || 'inspector1';
const cosigner = process.env.COSIGNER || 'inspector2';
const password = PASSWORD;
const fillPath = `/inspections/${encodeURIComponent(inspectionId || '')}/fill`;

check(base && inspectionId, 'BASE_URL and INSPECTION_ID are set');

// A real photo-sized PNG (2400×1800, a gradient with a grid), so the page's downscaling to 1600 px
// and JPEG re-encoding are exercised, not only the upload.
function png(width, height) {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (buf) => {
    let c = 0xffffffff;
    for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type, data) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const c = Buffer.alloc(4);
    c.writeUInt32BE(crc(td));
    return Buffer.concat([len, td, c]);
  };
  const raw = Buffer.alloc((width * 3 + 1) * height);
  for (let y = 0; y < height; y++) {
    const row = y * (width * 3 + 1);
    raw[row] = 0;
    for (let x = 0; x < width; x++) {
      const grid = x % 200 < 4 || y % 200 < 4;
      const i = row + 1 + x * 3;
      raw[i] = grid ? 255 : (x * 255) / width;
      raw[i + 1] = grid ? 255 : (y * 255) / height;
      raw[i + 2] = grid ? 255 : 120;
    }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // RGB
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', zlib.deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}
const PHOTO = png(2400, 1800);

const browser = await launch();
const tablet = { ...TABLET, serviceWorkers: 'allow' };

let shot = 0;
async function snap(page, name) {
  shot += 1;
  await screenshot(page, `checklist-${shot}-${name}`, false);
}

const item = (page, id) => page.locator(`[data-item="${id}"]`);
const ready = (page) => page.waitForSelector('#checklist[data-ready=true]');
const syncState = (page) => page.locator('[data-testid=sync]').getAttribute('data-state');

async function openSection(page, sectionId) {
  await page.locator(`.ck-tab[data-section="${sectionId}"]`).click();
  await page.locator(`[data-section-panel="${sectionId}"]`).waitFor({ state: 'visible' });
}

/** The answer that passes an item, for the widgets that have one. */
function passing(spec) {
  switch (spec.type) {
    case 'yes_no': return spec.pass;
    case 'choice': return (spec.choices.find((c) => !c.fails) || spec.choices[0]).id;
    case 'number': {
      const lo = Math.max(spec.min, spec.pass_min ?? spec.min);
      const hi = Math.min(spec.max, spec.pass_max ?? spec.max);
      return String(lo <= hi ? lo : spec.min);
    }
    case 'text': return '现场核查，情况正常。';
    default: return null;
  }
}

/** Answers one item through its widget, as a finger would. */
async function answer(page, it, value) {
  const el = item(page, it.id);
  await el.scrollIntoViewIfNeeded();
  switch (it.answer.type) {
    case 'yes_no':
    case 'choice':
      await el.locator(`[data-answer="${value}"]`).click();
      check(await el.locator(`[data-answer="${value}"] input`).isChecked(), `${it.id} = ${value}`);
      break;
    case 'number':
    case 'text':
      await el.locator('[data-field=value]').fill(value);
      break;
    case 'photo':
      await el.locator('input[type=file]').setInputFiles({ name: 'scene.png', mimeType: 'image/png', buffer: PHOTO });
      await el.locator('.ck-thumb').first().waitFor();
      break;
    default:
      throw new Error(`unknown answer type ${it.answer.type}`);
  }
}

const answered = new Map(); // item id → value given (for the checks after the reload)

try {
  const context = await browser.newContext(tablet);
  const page = await context.newPage();
  page.setDefaultTimeout(30000);
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));

  // 1. Sign in as the inspector and open the checklist.
  await signIn(page, inspector, fillPath);
  check(new URL(page.url()).pathname === fillPath, `the sign-in leads on to the checklist (at ${page.url()})`);
  await ready(page);

  const data = await page.evaluate(async (url) => (await fetch(url, { cache: 'no-store' })).json(), `/api/inspections/${encodeURIComponent(inspectionId)}`);
  check(data.template && Array.isArray(data.template.sections), 'the API returns the template');
  check(data.result === null || data.result === undefined, 'the inspection is not yet submitted');
  const sections = data.template.sections;
  const all = sections.flatMap((s) => s.items.map((it) => ({ ...it, section: s.id })));
  check((await page.locator('[data-testid=template-title]').innerText()).trim() === data.template.title.zh, 'the header names the template');

  // The service worker must be in control and hold the page and the API answer before going
  // offline, as on a tablet that opened the checklist once at the office.
  await page.waitForFunction(async (args) => {
    if (!navigator.serviceWorker.controller) return false;
    const cache = await caches.open('qingling-checklist-v1');
    return !!(await cache.match(args.page)) && !!(await cache.match(args.api));
  }, { page: fillPath, api: `/api/inspections/${encodeURIComponent(inspectionId)}` }, { timeout: 20000 }).catch(async () => {
    // The first visit is not controlled until the worker claims it: reload once, online.
    await page.reload();
    await ready(page);
    await page.waitForFunction(() => !!navigator.serviceWorker.controller, null, { timeout: 20000 });
  });

  // Plain yes/no items that are always shown, to answer on and off line.
  const plain = all.filter((it) => it.answer.type === 'yes_no' && !it.show_if && it.required);
  check(plain.length >= 6, `the template has enough plain yes/no items (${plain.length})`);
  const failedItem = plain.find((it) => it.failure && it.failure.evidence.length) || plain[3];
  const online = plain.filter((it) => it !== failedItem).slice(0, 3);
  const offline = plain.filter((it) => it !== failedItem && !online.includes(it)).slice(0, 2);

  // 2. A few answers online.
  for (const it of online) {
    await openSection(page, it.section);
    await answer(page, it, it.answer.pass);
    answered.set(it.id, it.answer.pass);
  }
  await page.waitForFunction(() => document.querySelector('[data-testid=sync]').dataset.state === 'synced', null, { timeout: 20000 });
  await snap(page, 'online');

  // 3. Offline: more answers, one of them failed with a note and a photo.
  await context.setOffline(true);
  await page.waitForFunction(() => document.querySelector('[data-testid=sync]').dataset.state === 'offline');
  for (const it of offline) {
    await openSection(page, it.section);
    await answer(page, it, it.answer.pass);
    answered.set(it.id, it.answer.pass);
  }
  const fail = failedItem.answer.pass === 'yes' ? 'no' : 'yes';
  await openSection(page, failedItem.section);
  await answer(page, failedItem, fail);
  answered.set(failedItem.id, fail);
  const failed = item(page, failedItem.id);
  await failed.locator('.ck-evidence').waitFor({ state: 'visible' });
  const note = '二楼东侧灭火器压力不足，共 2 具。';
  await failed.locator('textarea[data-field=note]').fill(note);
  await failed.locator('input[type=file]').setInputFiles({ name: '现场.png', mimeType: 'image/png', buffer: PHOTO });
  await failed.locator('.ck-thumb[data-state=pending]').waitFor();
  const width = await failed.locator('.ck-thumb img').evaluate((img) => img.decode().then(() => img.naturalWidth));
  check(width === 1600, `the photo is scaled down to 1600 px before upload (got ${width})`);
  check(await syncState(page) === 'offline', 'the page says it is offline');
  await snap(page, 'offline-failed-item');

  // 4. Reload while offline: the service worker serves the page, IndexedDB the answers.
  const reload = await page.reload();
  check(reload && reload.fromServiceWorker(), 'the offline reload is served by the service worker');
  await ready(page);
  for (const [id, value] of answered) {
    const input = item(page, id).locator(`[data-answer="${value}"] input`);
    check(await input.isChecked(), `after the offline reload ${id} is still ${value}`);
  }
  check(await item(page, failedItem.id).locator('textarea[data-field=note]').inputValue() === note, 'the note survived the reload');
  check(await item(page, failedItem.id).locator('.ck-thumb').count() === 1, 'the photo survived the reload');
  check(await syncState(page) === 'offline', 'still offline after the reload');
  await openSection(page, failedItem.section);
  await item(page, failedItem.id).scrollIntoViewIfNeeded();
  await snap(page, 'offline-reloaded');

  // 5. Back online: the photo is uploaded, then the draft; the indicator says so.
  await context.setOffline(false);
  await page.waitForFunction(() => document.querySelector('[data-testid=sync]').dataset.state === 'synced', null, { timeout: 30000 });
  await item(page, failedItem.id).locator('.ck-thumb[data-state=uploaded]').waitFor();
  const draft = await page.evaluate(async (url) => (await fetch(url, { cache: 'no-store' })).json(), `/api/inspections/${encodeURIComponent(inspectionId)}`);
  const serverFailed = draft.draft && draft.draft.answers && draft.draft.answers[failedItem.id];
  check(serverFailed && serverFailed.value === fail && serverFailed.note === note, `the server holds the offline answers (${JSON.stringify(serverFailed)})`);
  check(serverFailed.photos && serverFailed.photos.length === 1 && /^[0-9a-f]{64}$/.test(serverFailed.photos[0]), 'the server draft names the uploaded photo by its hash');

  // 6. Every other required item that is shown gets a passing answer, section by section (an
  //    answer may show or hide later items, so visibility is read off the page as it goes).
  for (const section of sections) {
    await openSection(page, section.id);
    for (const it of section.items) {
      const el = item(page, it.id);
      if (!it.required || answered.has(it.id) || !(await el.isVisible())) continue;
      const state = await el.getAttribute('data-state');
      if (state === 'answered' || state === 'failed') continue;
      const value = passing(it.answer);
      await answer(page, it, value);
      answered.set(it.id, value);
    }
  }

  // 7. Review, co-sign and submit.
  await openSection(page, '__summary');
  await page.locator('[data-testid=missing] h3').waitFor();
  const missing = await page.locator('[data-testid=missing] li').allInnerTexts();
  check(missing.length === 0, `nothing left to answer (${missing.join(' | ')})`);
  const progress = page.locator('[data-testid=progress]');
  check(await progress.getAttribute('data-done') === await progress.getAttribute('data-total'), 'the progress is complete');
  await page.selectOption('[data-testid=cosigner]', cosigner);
  await page.fill('[data-testid=cosigner-password]', password);
  await snap(page, 'sign');
  // The first press asks for confirmation (official notices are issued), the second submits.
  await page.click('[data-testid=submit]');
  await page.locator('#ck-sign-error', { hasText: '确认' }).waitFor();
  check((await page.locator('[data-testid=submit]').innerText()).includes('确认提交'), 'the button asks to confirm');
  await page.click('[data-testid=submit]');
  await page.locator('[data-testid=result]').waitFor({ timeout: 60000 });
  // The workflow writes the notices (HTML and PDF) after it accepts the submission; the page
  // keeps asking until they are there.
  await page.locator('[data-testid=notice-number]').first().waitFor({ timeout: 120000 });
  const numbers = (await page.locator('[data-testid=notice-number]').allInnerTexts()).map((s) => s.trim()).filter(Boolean);
  check(numbers.length >= 1, 'the result shows at least one notice number');
  const findings = Number(await page.locator('[data-testid=findings-count]').getAttribute('data-count'));
  check(findings >= 1, `the failed item is a finding (${findings})`);
  await snap(page, 'result');

  // 8. The draft is gone from the tablet.
  const left = await page.evaluate((id) => new Promise((resolve) => {
    const req = indexedDB.open('qingling-checklist');
    req.onsuccess = () => {
      const get = req.result.transaction('drafts').objectStore('drafts').get(id);
      get.onsuccess = () => resolve(get.result === undefined ? 'none' : 'kept');
      get.onerror = () => resolve('error');
    };
    req.onerror = () => resolve('error');
  }), inspectionId);
  check(left === 'none', `the local draft is cleared after submission (${left})`);

  // 9. Signing out of the shared tablet removes the offline copies the server already has.
  const cachedBefore = await page.evaluate(async () => (await caches.keys()).filter((k) => k.startsWith('qingling-checklist-')).length);
  check(cachedBefore >= 1, 'the offline page cache exists before signing out');
  await Promise.all([page.waitForNavigation(), page.click('form[action="/logout"] button[type=submit]')]);
  check(page.url().endsWith('/login'), `signed out (at ${page.url()})`);
  const after = await page.evaluate(async () => {
    const cached = (await caches.keys()).filter((k) => k.startsWith('qingling-checklist-')).length;
    const snapshots = await new Promise((resolve) => {
      const req = indexedDB.open('qingling-checklist');
      req.onsuccess = () => { const c = req.result.transaction('snapshots').objectStore('snapshots').count(); c.onsuccess = () => resolve(c.result); c.onerror = () => resolve(-1); };
      req.onerror = () => resolve(-1);
    });
    return { cached, snapshots };
  });
  check(after.cached === 0 && after.snapshots === 0, `nothing of the inspection is left cached after signing out (${JSON.stringify(after)})`);
  check(errors.length === 0, `no script errors on the page (${errors.join('; ')})`);

  console.log(`RESULT ${JSON.stringify({ inspection_id: inspectionId, notice_numbers: numbers, findings, failed_item: failedItem.id, answered: answered.size })}`);
} finally {
  await browser.close();
}
