// The tablet checklist page (templates/inspection_fill.html): renders an inspection's checklist
// from GET /api/inspections/{id}, keeps every answer in IndexedDB the moment it is given (photos
// too, as downscaled JPEG blobs), and syncs to the server when it can: pending photos first, then
// the draft (PUT /draft, debounced), then a queued submission. The device is the source of truth
// until the inspection is submitted; the server's copy wins only when it is newer than an
// unchanged local one. The checks are checklist-rules.js's (the server's rules, tested against
// checklists::evaluate), so the inspector sees problems before the server does; the server still
// decides. Texts come from the catalogue
// (`web.checklist.*`, in data-messages), never from this file.
(() => {
  'use strict';

  const root = document.getElementById('checklist');
  if (!root) return;
  const RULES = window.QinglingChecklistRules;

  const ID = root.dataset.inspectionId;
  const LANG = (root.dataset.lang || 'zh-CN').startsWith('en') ? 'en' : 'zh';
  const ME = parseJson(root.dataset.me, {});
  const MSG = parseJson(root.dataset.messages, {});
  const API = `/api/inspections/${encodeURIComponent(ID)}`;
  // Shared with sw.js: the page stores its shell and the last API answer there too, because the
  // first visit happens before the service worker controls the page.
  const CACHE = 'qingling-checklist-v2';
  const SUMMARY = '__summary';
  const LOCAL = 'local:';
  const MAX_EDGE = 1600;
  const SYNC_DELAY_MS = 1200;
  const RETRY_MS = 15000;
  let csrf = root.dataset.csrf || '';

  // ───────────────────────────── small helpers ─────────────────────────────

  function parseJson(text, fallback) {
    try { return JSON.parse(text); } catch (_) { return fallback; }
  }

  /** A catalogue text (`web.checklist.<key>`) with `{name}` placeholders filled. */
  function msg(key, args) {
    let s = Object.prototype.hasOwnProperty.call(MSG, key) ? MSG[key] : key;
    for (const [k, v] of Object.entries(args || {})) s = s.split(`{${k}}`).join(String(v));
    return s;
  }

  /** A template text ({zh, en}) in the page's language. */
  function tx(text) {
    if (!text) return '';
    return text[LANG] || text.zh || text.en || '';
  }

  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === 'class') el.className = v;
      else if (k === 'text') el.textContent = v;
      else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
      else if (k === 'value') el.value = v;
      else if (k in el && typeof v !== 'string') el[k] = v;
      else el.setAttribute(k, v === true ? '' : v);
    }
    for (const c of children.flat()) {
      if (c === null || c === undefined || c === false) continue;
      el.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return el;
  }

  function uuid() {
    if (crypto.randomUUID) return crypto.randomUUID();
    const b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    const x = [...b].map((n) => n.toString(16).padStart(2, '0')).join('');
    return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
  }

  /** Numbers as the evaluator writes them: no trailing `.0`. */
  function num(n) {
    return Number.isInteger(n) ? String(n) : String(Number(n.toFixed(6)));
  }

  const domId = (itemId) => `item-${itemId}`;
  const byItem = (itemId) => root.querySelector(`[data-item="${CSS.escape(itemId)}"]`);

  // ───────────────────────────── storage (IndexedDB) ─────────────────────────────
  // drafts:    {id, answers, rev, synced_rev, server_rev, updated_ms, submit: {key, cosigner} | null}
  // photos:    {id, inspection, item, blob, type, sha256 | null, error | null, created_ms}
  // snapshots: {id, data, saved_ms}   (the last API answer, in case the cache is gone)

  const store = (() => {
    let dbp = null;
    const memory = { drafts: new Map(), photos: new Map(), snapshots: new Map() };
    let inMemory = false;

    function open() {
      if (dbp) return dbp;
      dbp = new Promise((resolve, reject) => {
        if (!('indexedDB' in window)) { reject(new Error('IndexedDB unavailable')); return; }
        const req = indexedDB.open('qingling-checklist', 1);
        req.onupgradeneeded = () => {
          const db = req.result;
          db.createObjectStore('drafts', { keyPath: 'id' });
          db.createObjectStore('photos', { keyPath: 'id' }).createIndex('inspection', 'inspection');
          db.createObjectStore('snapshots', { keyPath: 'id' });
        };
        req.onsuccess = () => resolve(req.result);
        req.onerror = () => reject(req.error);
        req.onblocked = () => reject(new Error('IndexedDB blocked'));
      }).catch((e) => {
        inMemory = true;
        flash(msg('storage_failed', { detail: e.message || e }), 'error');
        return null;
      });
      return dbp;
    }

    // `fn` gets the object store and returns a request, or (without IndexedDB) the memory map
    // and returns the value itself.
    async function run(name, mode, fn) {
      const db = await open();
      if (!db) return fn(null, memory[name]);
      return new Promise((resolve, reject) => {
        const tr = db.transaction(name, mode);
        const req = fn(tr.objectStore(name), null);
        tr.oncomplete = () => resolve(req ? req.result : undefined);
        tr.onerror = () => reject(tr.error);
        tr.onabort = () => reject(tr.error || new Error('aborted'));
      });
    }

    return {
      get memoryOnly() { return inMemory; },
      get: (name, key) => run(name, 'readonly', (s, m) => (s ? s.get(key) : m.get(key))),
      put: (name, value) => run(name, 'readwrite', (s, m) => (s ? s.put(value) : void m.set(value.id, value))),
      del: (name, key) => run(name, 'readwrite', (s, m) => (s ? s.delete(key) : void m.delete(key))),
      photosOf: (inspection) => run('photos', 'readonly', (s, m) => (s ? s.index('inspection').getAll(inspection) : [...m.values()].filter((p) => p.inspection === inspection))).then((r) => r || []),
    };
  })();

  // ───────────────────────────── state ─────────────────────────────

  const S = {
    tpl: null,
    inspection: null,
    order: [], // [{item, section, number}] in template order
    items: new Map(), // id → {item, section, number}
    draft: null,
    photos: new Map(), // local id → record
    urls: new Map(), // record id → object URL
    showAll: false,
    serverProblems: new Map(), // item → message
    current: null,
    sync: 'loading',
    readonly: false,
    assigned: false,
    started: false,
    done: false,
    polling: null,
    resultShown: false,
    queued: null, // {password} while a submission waits to be sent
    submitting: false,
    uploading: new Set(),
  };

  const answerOf = (id) => (S.draft && S.draft.answers[id]) || {};

  // ───────────────────────────── evaluation (assets/checklist-rules.js) ─────────────────────────────

  /** An invalid answer's code (from checklist-rules.js) in words. */
  function invalidText(invalid) {
    switch (invalid.code) {
      case 'answer.too_many_photos': return msg('err_photos_max', { max: invalid.args.max });
      case 'answer.out_of_bounds': return msg('err_bounds', { min: num(invalid.args.min), max: num(invalid.args.max) });
      default: return msg('err_number');
    }
  }

  /** Every item's visibility and state, in template order, as the server would see them, with
   *  the problems to show: the rules' verdict (RULES.evaluate) put into words, plus what only the
   *  device knows (a photo the server refused, what the server said last). */
  function evaluate() {
    const result = RULES.evaluate(S.tpl, answerOf);
    for (const { item } of S.order) {
      const st = result.get(item.id);
      st.required = st.shown && item.required;
      const a = answerOf(item.id);
      const refused = (a.photos || []).map(recordFor).find((r) => r && r.error);
      // Problems shown at once (a value out of range as it is typed, a refused photo, what the
      // server said) and those shown once the summary was opened or a submission was tried
      // (nothing answered yet, evidence still to attach).
      const now = [];
      const later = [];
      if (st.shown) {
        if (S.serverProblems.has(item.id)) now.push(S.serverProblems.get(item.id));
        if (st.invalid) now.push(invalidText(st.invalid));
        if (refused) now.push(msg('photo_refused', { detail: refused.error }));
        if (!st.invalid && !st.answered && item.required) later.push(msg('err_required'));
        for (const m of st.missing) later.push(msg(m === 'photo' ? 'err_photo' : 'err_note'));
      }
      st.problems = [...new Set([...now, ...later])];
      st.shownProblems = S.showAll ? st.problems : [...new Set(now)];
    }
    return result;
  }

  /** The answers as the server takes them: only uploaded photos, no local fields; with `shownOnly`
   *  the answers of hidden items are left out (the evaluator refuses them). */
  function wireAnswers(shownOnly) {
    const states = shownOnly ? RULES.evaluate(S.tpl, answerOf) : null;
    return RULES.wire(S.tpl, S.draft.answers, states, (p) => !p.startsWith(LOCAL));
  }

  // ───────────────────────────── HTTP ─────────────────────────────

  class NetError extends Error {}
  class HttpError extends Error {
    constructor(status, body) {
      super((body && body.error && body.error.message) || `HTTP ${status}`);
      this.status = status;
      this.body = body;
      this.code = body && body.error && body.error.code;
    }
  }

  async function refreshCsrf() {
    const res = await fetch('/api/me', { credentials: 'same-origin', cache: 'no-store' });
    if (res.ok) {
      const me = await res.json();
      if (me.csrf) csrf = me.csrf;
    }
  }

  async function api(method, url, body, retried) {
    const headers = { Accept: 'application/json' };
    const init = { method, headers, credentials: 'same-origin', cache: 'no-store' };
    if (method !== 'GET') headers['x-csrf-token'] = csrf;
    if (body instanceof FormData) init.body = body;
    else if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    let res;
    try {
      res = await fetch(url, init);
    } catch (e) {
      throw new NetError(e.message || 'network');
    }
    let json = null;
    try { json = await res.json(); } catch (_) { /* an empty or non-JSON body */ }
    if (res.status === 403 && json && json.error && json.error.code === 'auth.csrf' && !retried) {
      // The page may come from the offline cache with an older session's token.
      await refreshCsrf().catch(() => {});
      return api(method, url, body, true);
    }
    if (res.status === 401) setSync('auth');
    if (!res.ok) throw new HttpError(res.status, json);
    return json;
  }

  async function cachePut(url, data) {
    if (!('caches' in window)) return;
    try {
      const cache = await caches.open(CACHE);
      await cache.put(url, new Response(JSON.stringify(data), { headers: { 'Content-Type': 'application/json' } }));
    } catch (_) { /* the cache is a convenience; IndexedDB holds the snapshot too */ }
  }

  function registerServiceWorker() {
    if (!('serviceWorker' in navigator)) return;
    const controlled = !!navigator.serviceWorker.controller;
    navigator.serviceWorker.register('/sw.js', { scope: '/inspections/' }).catch(() => {});
    if (!controlled && navigator.onLine && 'caches' in window) {
      // This visit was not served through the worker: store the shell now so that a reload
      // without a network still opens.
      navigator.serviceWorker.ready
        .then(() => caches.open(CACHE))
        .then((c) => c.add(new Request(location.pathname, { credentials: 'same-origin' })))
        .catch(() => {});
    }
  }

  // ───────────────────────────── persistence and sync ─────────────────────────────

  let saveChain = Promise.resolve();
  function saveDraft() {
    const copy = JSON.parse(JSON.stringify(S.draft));
    saveChain = saveChain.then(() => store.put('drafts', copy)).catch((e) => flash(msg('storage_failed', { detail: e.message || e }), 'error'));
    return saveChain;
  }

  /** Records a change: saved on the device at once, sent to the server a moment later. */
  function commit() {
    S.draft.rev += 1;
    S.draft.updated_ms = Date.now();
    saveDraft();
    refresh();
    scheduleSync(SYNC_DELAY_MS);
  }

  const dirty = () => S.draft && S.draft.rev > S.draft.synced_rev;
  const pendingPhotos = () => [...S.photos.values()].filter((p) => !p.sha256 && !p.error);
  const needsStart = () => !S.started && S.assigned && S.inspection && S.inspection.status === 'assigned';

  function setSync(state) {
    if (S.sync === 'auth' && state !== 'synced') return;
    S.sync = state;
    const el = root.querySelector('.ck-sync');
    el.dataset.state = state;
    el.textContent = msg(`sync_${state}`);
    if (state === 'auth') {
      el.textContent = '';
      el.append(msg('sync_auth'), ' ', h('a', { href: `/login?next=${encodeURIComponent(location.pathname)}`, text: msg('relogin') }));
    }
  }

  function idleState() {
    if (!navigator.onLine) return 'offline';
    return dirty() || pendingPhotos().length || S.queued ? 'pending' : 'synced';
  }

  let syncTimer = null;
  let flushing = null;
  let again = false;

  function scheduleSync(delay) {
    if (S.done || S.readonly) return;
    clearTimeout(syncTimer);
    if (!navigator.onLine) { setSync('offline'); return; }
    if (S.sync !== 'saving') setSync(idleState());
    syncTimer = setTimeout(flush, delay);
  }

  /** Sends what the server does not have yet: photos, then the draft, then a queued submission. */
  function flush() {
    if (flushing) { again = true; return flushing; }
    flushing = (async () => {
      try {
        if (!navigator.onLine || S.done || S.readonly) { setSync(idleState()); return; }
        if (!pendingPhotos().length && !dirty() && !S.queued && !needsStart()) { setSync('synced'); return; }
        setSync('saving');
        await startInspection();
        await uploadPhotos();
        if (dirty()) await pushDraft();
        if (S.queued) await sendSubmission();
        if (!S.done) setSync(idleState());
      } catch (e) {
        if (S.sync === 'auth') return;
        if (e instanceof HttpError && e.status === 409) {
          // Submitted meanwhile (from another tablet, or an answer that never arrived here).
          await reloadResult();
          if (S.done) return;
        }
        setSync(navigator.onLine ? 'error' : 'offline');
        clearTimeout(syncTimer);
        // A refusal does not change by waiting; the next change tries again.
        const final = e instanceof HttpError && e.status >= 400 && e.status < 500 && e.status !== 408 && e.status !== 429;
        if (!final) syncTimer = setTimeout(flush, RETRY_MS);
      }
    })().finally(() => {
      flushing = null;
      if (again) { again = false; scheduleSync(0); }
    });
    return flushing;
  }

  /** Moves the inspection from assigned to in progress, once, when an assigned inspector has it open. */
  async function startInspection() {
    if (!needsStart()) return;
    try {
      await api('POST', `${API}/start`);
      S.inspection.status = 'in_progress';
    } catch (e) {
      // No network, the engine busy or down, a timeout: try again with the next sync. Only a
      // definite refusal (4xx) ends the attempts.
      if (e instanceof NetError || (e instanceof HttpError && (e.status >= 500 || e.status === 408 || e.status === 429))) throw e;
    }
    S.started = true;
  }

  async function pushDraft() {
    const rev = S.draft.rev;
    const res = await api('PUT', `${API}/draft`, { answers: wireAnswers(false), client_rev: rev });
    S.draft.synced_rev = Math.max(S.draft.synced_rev, rev);
    if (res && typeof res.rev === 'number') S.draft.server_rev = res.rev;
    await saveDraft();
  }

  // ───────────────────────────── photos ─────────────────────────────

  /** Scales a picture down to MAX_EDGE on its long edge and re-encodes it as JPEG (quality 0.8). */
  async function downscale(file) {
    const bitmap = await createImageBitmap(file);
    const scale = Math.min(1, MAX_EDGE / Math.max(bitmap.width, bitmap.height));
    const w = Math.max(1, Math.round(bitmap.width * scale));
    const hgt = Math.max(1, Math.round(bitmap.height * scale));
    const canvas = document.createElement('canvas');
    canvas.width = w;
    canvas.height = hgt;
    const g = canvas.getContext('2d');
    g.fillStyle = '#fff'; // JPEG has no transparency
    g.fillRect(0, 0, w, hgt);
    g.drawImage(bitmap, 0, 0, w, hgt);
    if (bitmap.close) bitmap.close();
    return new Promise((resolve, reject) => canvas.toBlob((b) => (b ? resolve(b) : reject(new Error('JPEG encoding failed'))), 'image/jpeg', 0.8));
  }

  async function addPhotos(itemId, files) {
    for (const file of files) {
      let blob;
      try {
        blob = await downscale(file);
      } catch (e) {
        if (/^image\/(jpeg|png|webp)$/.test(file.type)) blob = file; // the server can still take it
        else { flash(msg('photo_failed', { detail: e.message || e }), 'error'); continue; }
      }
      const rec = { id: uuid(), inspection: ID, item: itemId, blob, type: blob.type || 'image/jpeg', sha256: null, error: null, created_ms: Date.now() };
      await store.put('photos', rec).catch((e) => flash(msg('storage_failed', { detail: e.message || e }), 'error'));
      S.photos.set(rec.id, rec);
      const a = ensureAnswer(itemId);
      a.photos = [...(a.photos || []), LOCAL + rec.id];
      renderPhotos(itemId);
      commit();
    }
    scheduleSync(0);
  }

  function recordFor(ref) {
    if (ref.startsWith(LOCAL)) return S.photos.get(ref.slice(LOCAL.length)) || null;
    for (const p of S.photos.values()) if (p.sha256 === ref) return p;
    return null;
  }

  async function removePhoto(itemId, ref) {
    const a = ensureAnswer(itemId);
    a.photos = (a.photos || []).filter((p) => p !== ref);
    const rec = recordFor(ref);
    const stillUsed = rec && Object.values(S.draft.answers).some((x) => (x.photos || []).some((p) => recordFor(p) === rec));
    if (rec && !stillUsed) {
      S.photos.delete(rec.id);
      if (S.urls.has(rec.id)) { URL.revokeObjectURL(S.urls.get(rec.id)); S.urls.delete(rec.id); }
      store.del('photos', rec.id).catch(() => {});
    }
    renderPhotos(itemId);
    commit();
  }

  async function uploadPhotos() {
    for (const rec of pendingPhotos()) {
      if (!S.photos.has(rec.id)) continue;
      const form = new FormData();
      form.append('file', rec.blob, `photo.${rec.type === 'image/png' ? 'png' : rec.type === 'image/webp' ? 'webp' : 'jpg'}`);
      S.uploading.add(rec.id);
      renderPhotos(rec.item);
      try {
        const res = await api('POST', `${API}/photos`, form);
        rec.sha256 = res.sha256;
        for (const a of Object.values(S.draft.answers)) {
          if (a.photos) a.photos = a.photos.map((p) => (p === LOCAL + rec.id ? res.sha256 : p));
        }
        await store.put('photos', rec);
        commit();
      } catch (e) {
        if (e instanceof HttpError && [413, 415, 422].includes(e.status)) {
          rec.error = e.message;
          await store.put('photos', rec).catch(() => {});
          refresh();
        } else {
          throw e;
        }
      } finally {
        S.uploading.delete(rec.id);
        renderPhotos(rec.item);
      }
    }
  }

  // ───────────────────────────── answering ─────────────────────────────

  function ensureAnswer(id) {
    if (!S.draft.answers[id]) S.draft.answers[id] = {};
    return S.draft.answers[id];
  }

  function setAnswer(id, patch) {
    if (S.readonly || S.done) return;
    const a = ensureAnswer(id);
    for (const [k, v] of Object.entries(patch)) {
      if (v === undefined || v === '' || v === null) delete a[k];
      else a[k] = v;
    }
    S.serverProblems.delete(id);
    commit();
  }

  // ───────────────────────────── rendering ─────────────────────────────

  const main = root.querySelector('.ck-main');
  const nav = root.querySelector('.ck-nav');
  const flashEl = root.querySelector('.ck-flash');

  let flashTimer = null;
  /** A message above the checklist; information goes away by itself unless `sticky`, errors stay. */
  function flash(text, kind, sticky) {
    clearTimeout(flashTimer);
    flashEl.textContent = '';
    if (!text) return;
    flashEl.append(h('div', { class: `alert alert-${kind || 'info'}`, role: kind === 'error' ? 'alert' : null, text }));
    if (kind !== 'error' && !sticky) flashTimer = setTimeout(() => { flashEl.textContent = ''; }, 8000);
  }

  function fatal(text, retry) {
    root.classList.remove('ck-loading');
    main.textContent = '';
    main.append(h('div', { class: 'alert alert-error', role: 'alert', 'data-testid': 'fatal' }, text, retry ? h('div', { class: 'btn-row ck-fatal-actions' }, h('button', { class: 'btn', type: 'button', onclick: () => location.reload(), text: msg('retry') })) : null));
    setSync(navigator.onLine ? 'error' : 'offline');
  }

  function renderHeader() {
    const i = S.inspection;
    root.querySelector('.ck-facility').textContent = (i.facility && i.facility.name) || '';
    root.querySelector('.ck-title').textContent = tx(S.tpl.title);
    const names = (i.inspectors || []).map((p) => p.name).join('、');
    root.querySelector('.ck-meta').textContent = `${msg('date')} ${i.date || ''}${names ? ` · ${msg('inspectors')} ${names}` : ''} · ${S.tpl.basis || ''}`;
    document.title = `${tx(S.tpl.title)} · ${(i.facility && i.facility.name) || ''}`;
  }

  function renderNav() {
    const ol = nav.querySelector('ol');
    ol.textContent = '';
    S.tpl.sections.forEach((sec, i) => {
      ol.append(h('li', {}, h('button', { type: 'button', class: 'ck-tab', 'data-section': sec.id, onclick: () => goTo(sec.id) },
        h('span', { class: 'ck-tab-num', text: String(i + 1) }),
        h('span', { class: 'ck-tab-title', text: tx(sec.title) }),
        h('span', { class: 'ck-tab-count' }),
        h('span', { class: 'ck-tab-errors', hidden: true }))));
    });
    ol.append(h('li', {}, h('button', { type: 'button', class: 'ck-tab ck-tab-summary', 'data-section': SUMMARY, onclick: () => goTo(SUMMARY) },
      h('span', { class: 'ck-tab-num', text: '✓' }),
      h('span', { class: 'ck-tab-title', text: msg('summary_tab') }),
      h('span', { class: 'ck-tab-errors', hidden: true }))));
    nav.hidden = false;
  }

  function itemWidget(item) {
    const spec = item.answer;
    const a = answerOf(item.id);
    const name = `a-${item.id}`;
    const errId = `err-${item.id}`;
    switch (spec.type) {
      case 'yes_no': {
        const opts = [['yes', msg('yes')], ['no', msg('no')]];
        if (spec.allow_na) opts.push(['na', msg('na')]);
        return h('div', { class: `ck-seg ck-seg-${opts.length}` }, opts.map(([v, label]) => h('label', { class: `ck-opt ck-opt-${v}`, 'data-answer': v },
          h('input', { type: 'radio', name, value: v, checked: a.value === v, 'aria-describedby': errId, onchange: () => setAnswer(item.id, { value: v }) }),
          h('span', { text: label }))));
      }
      case 'choice':
        return h('div', { class: 'ck-choices' }, spec.choices.map((c) => h('label', { class: 'ck-choice', 'data-answer': c.id },
          h('input', { type: 'radio', name, value: c.id, checked: a.value === c.id, 'aria-describedby': errId, onchange: () => setAnswer(item.id, { value: c.id }) }),
          h('span', { text: tx(c.label) }))));
      case 'number': {
        const unit = spec.unit ? tx(spec.unit) : '';
        const shown = a.raw !== undefined ? a.raw : typeof a.value === 'number' ? num(a.value) : '';
        const input = h('input', {
          id: `in-${item.id}`, type: 'text', inputmode: 'decimal', autocomplete: 'off', enterkeyhint: 'next', value: shown,
          placeholder: msg('number_placeholder'), 'data-field': 'value', 'aria-describedby': `hint-${item.id} ${errId}`,
          oninput: (e) => {
            const raw = e.target.value.trim().replace(/，|,/g, '.').replace(/－/g, '-');
            if (raw === '') { setAnswer(item.id, { value: undefined, raw: undefined }); return; }
            const n = /^-?(\d+\.?\d*|\.\d+)$/.test(raw) ? Number(raw) : NaN;
            if (Number.isFinite(n)) setAnswer(item.id, { value: n, raw: undefined });
            else { const x = ensureAnswer(item.id); delete x.value; setAnswer(item.id, { raw: e.target.value }); }
          },
        });
        const pass = [];
        if (spec.pass_min != null && spec.pass_max != null) pass.push(`${num(spec.pass_min)}–${num(spec.pass_max)}`);
        else if (spec.pass_min != null) pass.push(msg('at_least', { n: num(spec.pass_min) }));
        else if (spec.pass_max != null) pass.push(msg('at_most', { n: num(spec.pass_max) }));
        return h('div', { class: 'ck-number' },
          h('div', { class: 'ck-number-row' }, input, unit ? h('span', { class: 'ck-unit', text: unit }) : null),
          h('p', { class: 'ck-hint', id: `hint-${item.id}` }, msg('range', { min: num(spec.min), max: num(spec.max), unit: unit ? ` ${unit}` : '' }),
            pass.length ? ` · ${msg('pass_range', { range: pass[0] })}` : ''));
      }
      case 'text':
        return h('textarea', { id: `in-${item.id}`, rows: 3, 'data-field': 'value', placeholder: msg('text_placeholder'), 'aria-describedby': errId, value: typeof a.value === 'string' ? a.value : '',
          oninput: (e) => setAnswer(item.id, { value: e.target.value || undefined }) });
      default:
        return null;
    }
  }

  function photoBlock(item) {
    const max = item.answer.type === 'photo' ? item.answer.max_photos : null;
    const input = h('input', {
      type: 'file', accept: 'image/*', capture: 'environment', multiple: true, class: 'ck-file', id: `ph-${item.id}`, 'data-field': 'photo',
      onchange: (e) => { const files = [...e.target.files]; e.target.value = ''; addPhotos(item.id, files); },
    });
    return h('div', { class: 'ck-photos-block' },
      h('div', { class: 'ck-photos-head' }, h('span', { class: 'ck-label', text: msg('photos') }), max ? h('span', { class: 'ck-photo-count' }) : null),
      h('ul', { class: 'ck-photos', 'data-testid': 'photos' }),
      h('label', { class: 'btn ck-add-photo', for: `ph-${item.id}` }, h('span', { 'aria-hidden': 'true', class: 'ck-camera' }), msg('add_photo')),
      input);
  }

  function renderPhotos(itemId) {
    const el = byItem(itemId);
    if (!el) return;
    const ul = el.querySelector('.ck-photos');
    if (!ul) return;
    ul.textContent = '';
    const refs = answerOf(itemId).photos || [];
    for (const ref of refs) {
      const rec = recordFor(ref);
      let url = null;
      if (rec) {
        if (!S.urls.has(rec.id)) S.urls.set(rec.id, URL.createObjectURL(rec.blob));
        url = S.urls.get(rec.id);
      }
      const state = !rec ? 'remote' : rec.error ? 'error' : rec.sha256 ? 'uploaded' : S.uploading.has(rec.id) ? 'uploading' : 'pending';
      const label = { pending: msg('photo_pending'), uploading: msg('photo_uploading'), error: rec && rec.error ? msg('photo_refused', { detail: rec.error }) : '', remote: msg('photo_remote'), uploaded: '' }[state];
      ul.append(h('li', { class: `ck-thumb ck-thumb-${state}`, 'data-photo': ref, 'data-state': state },
        url ? h('img', { src: url, alt: msg('photos') })
          : ref.startsWith(LOCAL) ? h('span', { class: 'ck-thumb-remote', text: '?' })
            : h('img', { src: `${API}/photos/${encodeURIComponent(ref)}`, alt: msg('photo_remote'), loading: 'lazy',
              onerror: (e) => e.target.replaceWith(h('span', { class: 'ck-thumb-remote', text: ref.slice(0, 8) })) }),
        label ? h('span', { class: 'ck-thumb-state', text: label }) : null,
        S.readonly ? null : h('button', { type: 'button', class: 'ck-thumb-remove', 'aria-label': msg('remove_photo'), title: msg('remove_photo'), onclick: () => removePhoto(itemId, ref), text: '×' })));
    }
    const count = el.querySelector('.ck-photo-count');
    const item = S.items.get(itemId).item;
    if (count && item.answer.type === 'photo') count.textContent = msg('photo_count', { n: refs.length, max: item.answer.max_photos });
  }

  function renderItem(entry) {
    const { item, number } = entry;
    const a = answerOf(item.id);
    const spec = item.answer;
    const grouped = spec.type === 'yes_no' || spec.type === 'choice' || spec.type === 'photo';
    const labelFor = spec.type === 'number' || spec.type === 'text' ? `in-${item.id}` : null;
    const q = [h('span', { class: 'ck-num', text: number }), h('span', { class: 'ck-q-text', text: tx(item.text) }),
      h('span', { class: `ck-req${item.required ? '' : ' ck-req-optional'}`, text: item.required ? msg('required') : msg('optional') })];
    const question = grouped ? h('legend', { class: 'ck-q' }, q) : h('label', { class: 'ck-q', for: labelFor }, q);
    const evidence = item.failure ? (item.failure.evidence || []).map((k) => msg(k === 'photo' ? 'evidence_photo' : 'evidence_note')).join('、') : '';
    const failBlock = item.failure || spec.type === 'photo'
      ? h('div', { class: 'ck-evidence', hidden: spec.type !== 'photo' },
        item.failure ? h('p', { class: 'ck-fail-flag' }, h('span', { class: 'badge badge-danger', text: msg('failed') }), ' ', evidence ? msg('evidence_needed', { what: evidence }) : '') : null,
        item.failure ? h('label', { class: 'ck-note' }, h('span', { class: 'ck-label', text: msg('note') }),
          h('textarea', { rows: 3, 'data-field': 'note', placeholder: msg('note_placeholder'), value: a.note || '', 'aria-describedby': `err-${item.id}`,
            oninput: (e) => setAnswer(item.id, { note: e.target.value || undefined }) })) : null,
        photoBlock(item))
      : null;
    const basis = item.failure && item.failure.basis ? `${item.failure.basis.standard} ${item.failure.basis.clause}`.trim() : '';
    const body = [question,
      basis ? h('p', { class: 'ck-basis', text: msg('basis', { basis }) }) : null,
      itemWidget(item),
      failBlock,
      h('p', { class: 'ck-error', id: `err-${item.id}`, 'aria-live': 'polite' })];
    const wrap = grouped ? h('fieldset', { class: 'ck-fieldset', 'aria-describedby': `err-${item.id}` }, body) : h('div', { class: 'ck-fieldset' }, body);
    const el = h('div', { class: `ck-item ck-type-${spec.type}`, id: domId(item.id), 'data-item': item.id, 'data-type': spec.type }, wrap);
    return el;
  }

  function renderSections() {
    main.textContent = '';
    S.tpl.sections.forEach((sec, si) => {
      const items = S.order.filter((e) => e.section === sec);
      const panel = h('section', { class: 'ck-section', 'data-section-panel': sec.id, hidden: true, 'aria-labelledby': `sec-${sec.id}` },
        h('h2', { id: `sec-${sec.id}`, class: 'ck-section-title' }, h('span', { class: 'ck-section-num', text: `${si + 1}` }), tx(sec.title)),
        items.map(renderItem),
        h('div', { class: 'ck-pager' },
          si > 0 ? h('button', { type: 'button', class: 'btn ck-prev', onclick: () => goTo(S.tpl.sections[si - 1].id), text: `‹ ${msg('prev')}` }) : h('span'),
          h('button', { type: 'button', class: 'btn btn-primary ck-next', onclick: () => goTo(si + 1 < S.tpl.sections.length ? S.tpl.sections[si + 1].id : SUMMARY), text: si + 1 < S.tpl.sections.length ? `${msg('next')} ›` : `${msg('summary_tab')} ›` })));
      main.append(panel);
    });
    main.append(renderSummary());
    for (const e of S.order) renderPhotos(e.item.id);
  }

  function renderSummary() {
    const others = (S.inspection.inspectors || []).filter((p) => p.username !== ME.username && p.id !== ME.id);
    const select = h('select', { id: 'ck-cosigner', name: 'cosigner', 'data-testid': 'cosigner', 'aria-describedby': 'ck-sign-error' },
      h('option', { value: '', text: msg('choose_cosigner') }),
      others.map((p) => h('option', { value: p.username, text: `${p.name}（${p.username}）`, selected: S.draft.submit && S.draft.submit.cosigner === p.username })));
    const sign = others.length
      ? h('div', { class: 'ck-sign-grid' },
        h('div', { class: 'ck-signer' }, h('span', { class: 'ck-label', text: msg('signer_first') }), h('strong', { class: 'ck-signer-me', text: ME.name || ME.username || '' })),
        h('label', { class: 'ck-signer', for: 'ck-cosigner' }, h('span', { class: 'ck-label', text: msg('signer_second') }), select),
        h('label', { class: 'ck-signer', for: 'ck-password' }, h('span', { class: 'ck-label', text: msg('cosigner_password') }),
          h('input', { id: 'ck-password', name: 'password', type: 'password', autocomplete: 'off', 'data-testid': 'cosigner-password', 'aria-describedby': 'ck-sign-error' })))
      : h('p', { class: 'alert alert-error', text: msg('no_cosigner') });
    return h('section', { class: 'ck-section ck-summary', 'data-section-panel': SUMMARY, hidden: true, 'aria-labelledby': 'sec-summary' },
      h('h2', { id: 'sec-summary', class: 'ck-section-title', text: msg('summary_title') }),
      h('p', { class: 'muted', text: msg('summary_intro') }),
      h('div', { class: 'panel ck-missing', 'data-testid': 'missing' }),
      h('div', { class: 'panel ck-findings-preview' }),
      h('form', { class: 'panel ck-sign', novalidate: true, onsubmit: (e) => { e.preventDefault(); onSubmit(); } },
        h('h3', { text: msg('sign_title') }),
        h('p', { class: 'muted', text: msg('sign_intro') }),
        h('p', { class: 'ck-queued alert alert-info', hidden: true, 'data-testid': 'queued' }),
        sign,
        h('p', { class: 'ck-error', id: 'ck-sign-error', 'aria-live': 'assertive', 'data-testid': 'sign-error' }),
        h('button', { type: 'submit', class: 'btn btn-primary btn-block ck-submit', 'data-testid': 'submit', disabled: !others.length || S.readonly, text: msg('submit') })));
  }

  function refreshSummary(ev) {
    const box = main.querySelector('.ck-missing');
    if (!box) return;
    const open = S.order.filter((e) => ev.get(e.item.id).shown && ev.get(e.item.id).problems.length);
    box.textContent = '';
    box.append(h('h3', { text: open.length ? msg('missing_title', { n: open.length }) : msg('missing_none') }));
    if (open.length) {
      box.append(h('ul', { class: 'ck-missing-list' }, open.map((e) => h('li', {},
        h('a', { href: `#${domId(e.item.id)}`, 'data-jump': e.item.id, onclick: (ev2) => { ev2.preventDefault(); goToItem(e.item.id); } },
          h('span', { class: 'ck-num', text: e.number }), h('span', { text: tx(e.item.text) })),
        h('span', { class: 'ck-missing-why', text: ev.get(e.item.id).problems[0] })))));
    }
    const failed = S.order.filter((e) => ev.get(e.item.id).shown && ev.get(e.item.id).fails);
    // The message under the button follows the answers: an "N items need attention" goes once
    // they are done, and a pending confirmation names the findings as they now stand.
    if (S.incompleteShown) {
      signError(open.length ? msg('err_incomplete', { n: open.length }) : '');
      if (!open.length) S.incompleteShown = false;
    } else if (S.confirming) {
      if (open.length) S.confirming = false;
      signError(open.length ? '' : msg('confirm_submit', { n: failed.length }));
    }
    const fp = main.querySelector('.ck-findings-preview');
    fp.textContent = '';
    fp.append(h('h3', { text: failed.length ? msg('findings_preview', { n: failed.length }) : msg('no_findings_preview') }));
    if (failed.length) {
      fp.append(h('ul', { class: 'ck-missing-list' }, failed.map((e) => h('li', {},
        h('a', { href: `#${domId(e.item.id)}`, onclick: (ev2) => { ev2.preventDefault(); goToItem(e.item.id); } }, h('span', { class: 'ck-num', text: e.number }), h('span', { text: tx(e.item.text) })),
        e.item.failure && e.item.failure.severity === 'major_hazard' ? h('span', { class: 'badge badge-danger', text: msg('major_hazard') }) : null))));
    }
    const q = main.querySelector('.ck-queued');
    if (q) {
      const waiting = S.queued ? msg('queued') : S.draft.submit ? msg('queued_password') : '';
      q.hidden = !waiting || (!S.queued && !S.draft.submit);
      q.textContent = waiting;
    }
    const btn = main.querySelector('.ck-submit');
    if (btn) {
      btn.textContent = S.submitting ? msg('submitting') : S.confirming ? msg('confirm_submit_button') : msg('submit');
      btn.setAttribute('aria-busy', S.submitting ? 'true' : 'false');
    }
  }

  /** Brings every item's visibility, state and message, the counters and the summary up to date. */
  function refresh() {
    if (!S.tpl || S.done) return;
    const ev = evaluate();
    let total = 0;
    let done = 0;
    const perSection = new Map(S.tpl.sections.map((s) => [s.id, { total: 0, done: 0, errors: 0, shown: 0 }]));
    for (const e of S.order) {
      const st = ev.get(e.item.id);
      const el = byItem(e.item.id);
      const c = perSection.get(e.section.id);
      if (el) {
        el.hidden = !st.shown;
        const state = !st.shown ? 'hidden' : st.shownProblems.length ? 'error' : st.fails ? 'failed' : st.answered ? 'answered' : 'empty';
        el.dataset.state = state;
        el.classList.toggle('ck-failed', st.fails);
        const evid = el.querySelector('.ck-evidence');
        if (evid && e.item.answer.type !== 'photo') {
          const has = (answerOf(e.item.id).note || '').trim() || (answerOf(e.item.id).photos || []).length;
          evid.hidden = !(st.fails || has);
          const flag = evid.querySelector('.ck-fail-flag');
          if (flag) flag.hidden = !st.fails;
        }
        const err = el.querySelector('.ck-error');
        const text = st.shownProblems.join(' ');
        if (err.textContent !== text) err.textContent = text;
        for (const input of el.querySelectorAll('input, textarea')) {
          if (st.shownProblems.length) input.setAttribute('aria-invalid', 'true');
          else input.removeAttribute('aria-invalid');
        }
        if (S.readonly) for (const input of el.querySelectorAll('input, textarea, button')) input.disabled = true;
      }
      if (!st.shown) continue;
      c.shown += 1;
      if (st.shownProblems.length) c.errors += 1;
      if (e.item.required) {
        total += 1;
        c.total += 1;
        if (st.answered) { done += 1; c.done += 1; }
      }
    }
    // Header progress.
    const prog = root.querySelector('.ck-progress');
    prog.hidden = false;
    prog.querySelector('.ck-progress-value').textContent = msg('progress_value', { done, total });
    prog.dataset.done = String(done);
    prog.dataset.total = String(total);
    const bar = prog.querySelector('.ck-bar');
    bar.setAttribute('aria-valuemax', String(total));
    bar.setAttribute('aria-valuenow', String(done));
    bar.querySelector('i').style.width = `${total ? Math.round((100 * done) / total) : 100}%`;
    // Section tabs.
    let allErrors = 0;
    for (const sec of S.tpl.sections) {
      const c = perSection.get(sec.id);
      allErrors += c.errors;
      const tab = nav.querySelector(`[data-section="${CSS.escape(sec.id)}"]`);
      if (!tab) continue;
      tab.querySelector('.ck-tab-count').textContent = msg('section_count', { done: c.done, total: c.total });
      tab.classList.toggle('ck-tab-complete', c.total > 0 && c.done === c.total && !c.errors);
      const badge = tab.querySelector('.ck-tab-errors');
      badge.hidden = !c.errors;
      badge.textContent = String(c.errors);
      badge.title = msg('section_errors', { n: c.errors });
      tab.setAttribute('aria-label', `${tx(sec.title)} ${msg('section_count', { done: c.done, total: c.total })}${c.errors ? ` · ${msg('section_errors', { n: c.errors })}` : ''}`);
      const panel = main.querySelector(`[data-section-panel="${CSS.escape(sec.id)}"]`);
      if (panel) panel.dataset.empty = c.shown ? 'false' : 'true';
    }
    const sumBadge = nav.querySelector(`[data-section="${SUMMARY}"] .ck-tab-errors`);
    if (sumBadge) { sumBadge.hidden = !(S.showAll && allErrors); sumBadge.textContent = String(allErrors); }
    refreshSummary(ev);
  }

  function goTo(sectionId, keepScroll) {
    S.current = sectionId;
    for (const p of main.querySelectorAll('[data-section-panel]')) p.hidden = p.dataset.sectionPanel !== sectionId;
    for (const b of nav.querySelectorAll('[data-section]')) {
      if (b.dataset.section === sectionId) b.setAttribute('aria-current', 'step');
      else b.removeAttribute('aria-current');
    }
    const tab = nav.querySelector(`[data-section="${CSS.escape(sectionId)}"]`);
    if (tab && tab.scrollIntoView) tab.scrollIntoView({ block: 'nearest', inline: 'nearest' });
    try { localStorage.setItem(`qingling-checklist-section-${ID}`, sectionId); } catch (_) { /* private mode */ }
    if (sectionId === SUMMARY) { S.showAll = true; refresh(); }
    if (!keepScroll) {
      const top = root.getBoundingClientRect().top + window.scrollY;
      if (window.scrollY > top) window.scrollTo({ top, behavior: 'auto' });
    }
  }

  function goToItem(itemId) {
    const entry = S.items.get(itemId);
    if (!entry) return;
    goTo(entry.section.id, true);
    const el = byItem(itemId);
    if (!el) return;
    el.scrollIntoView({ block: 'center' });
    const target = el.querySelector('input:not([type=file]):checked, input:not([type=file]), textarea, select');
    if (target) target.focus({ preventScroll: true });
    el.classList.remove('ck-flash-item');
    void el.offsetWidth; // restart the highlight animation
    el.classList.add('ck-flash-item');
  }

  // ───────────────────────────── submission ─────────────────────────────

  function signError(text) {
    const el = main.querySelector('#ck-sign-error');
    if (el) el.textContent = text || '';
  }

  async function onSubmit() {
    if (S.submitting || S.done) return;
    signError('');
    S.showAll = true;
    const ev = evaluate();
    refresh();
    const open = S.order.filter((e) => ev.get(e.item.id).shown && ev.get(e.item.id).problems.length);
    if (open.length) {
      S.incompleteShown = true;
      S.confirming = false;
      signError(msg('err_incomplete', { n: open.length }));
      goToItem(open[0].item.id);
      return;
    }
    const cos = main.querySelector('#ck-cosigner');
    const pw = main.querySelector('#ck-password');
    if (!cos || !cos.value || !pw || !pw.value) {
      signError(msg('err_cosigner'));
      (cos && !cos.value ? cos : pw)?.focus();
      return;
    }
    // Submitting signs the record and issues official notices: the first press asks, the
    // second one submits.
    if (!S.confirming && !S.draft.submit) {
      S.confirming = true;
      refresh();
      return;
    }
    S.confirming = false;
    // One key per attempt, kept with the draft: a retry after a lost answer sends the same key
    // and gets the same result instead of a second submission.
    if (!S.draft.submit) S.draft.submit = { key: uuid() };
    S.draft.submit.cosigner = cos.value;
    await saveDraft();
    S.queued = { password: pw.value };
    refresh();
    if (!navigator.onLine) {
      setSync('offline');
      return;
    }
    await flush();
  }

  async function sendSubmission() {
    const queued = S.queued;
    if (!queued || !S.draft.submit) { S.queued = null; return; }
    if (pendingPhotos().length) throw new NetError('photos not uploaded');
    S.submitting = true;
    refresh();
    try {
      const body = { idempotency_key: S.draft.submit.key, answers: wireAnswers(true), cosigner: { username: S.draft.submit.cosigner, password: queued.password } };
      const res = await api('POST', `${API}/submit`, body);
      S.queued = null;
      await finish(res.result, res.inspection);
    } catch (e) {
      if (e instanceof NetError || (e instanceof HttpError && e.status >= 500)) {
        // Unknown outcome: keep the key and the password in memory; flush retries.
        signError(msg('submit_network'));
        throw e;
      }
      S.queued = null;
      if (e instanceof HttpError && e.status === 401) { signError(e.message); return; }
      if (e instanceof HttpError && e.status === 409) {
        await reloadResult();
        if (!S.done) signError(e.message);
        return;
      }
      // Refused for good: the next attempt is a new one, with a new key.
      S.draft.submit = null;
      await saveDraft();
      const problems = (e.body && e.body.error && e.body.error.problems) || [];
      if (e instanceof HttpError && problems.length) {
        S.serverProblems = new Map();
        for (const p of problems) if (p.item) S.serverProblems.set(p.item, S.serverProblems.has(p.item) ? `${S.serverProblems.get(p.item)} ${p.message}` : p.message);
        S.showAll = true;
        refresh();
        flash(msg('problems_found', { n: problems.length }), 'error');
        signError(e.message);
        const first = S.order.find((x) => S.serverProblems.has(x.item.id));
        if (first) goToItem(first.item.id);
        return;
      }
      signError(msg('submit_failed', { detail: e.message }));
      const pw = main.querySelector('#ck-password');
      if (pw && e.code && /cosigner|signature/.test(e.code)) { pw.value = ''; pw.focus(); }
    } finally {
      S.submitting = false;
      if (!S.done) refresh();
    }
  }

  async function reloadResult() {
    try {
      const data = await api('GET', API);
      if (data && data.result) await finish(data.result, data.inspection);
    } catch (_) { /* shown by the caller */ }
  }

  /** Shows the result and forgets the draft on this device. */
  async function finish(result, inspection) {
    S.done = true;
    clearTimeout(syncTimer);
    if (inspection) S.inspection = Object.assign({}, S.inspection || {}, inspection);
    await store.del('drafts', ID).catch(() => {});
    for (const p of await store.photosOf(ID).catch(() => [])) await store.del('photos', p.id).catch(() => {});
    for (const url of S.urls.values()) URL.revokeObjectURL(url);
    S.urls.clear();
    S.photos.clear();
    try { localStorage.removeItem(`qingling-checklist-section-${ID}`); } catch (_) { /* private mode */ }
    renderResult(result || {});
    if (!(result && result.complete)) pollResult();
  }

  /** After a submission the workflow still writes the notices: ask again until it is done. */
  function pollResult() {
    clearTimeout(S.polling);
    S.polling = setTimeout(async () => {
      try {
        const data = await api('GET', API);
        if (data.inspection) S.inspection = Object.assign({}, S.inspection, data.inspection);
        if (data.result) renderResult(data.result);
        if (data.result && data.result.complete) return;
      } catch (_) { /* offline for a moment: keep asking */ }
      pollResult();
    }, 2000);
  }

  function renderResult(result) {
    root.classList.add('ck-done');
    nav.hidden = true;
    root.querySelector('.ck-progress').hidden = true;
    flash('');
    const el = root.querySelector('.ck-sync');
    el.dataset.state = 'synced';
    el.textContent = msg(`status_${(S.inspection && S.inspection.status) || 'submitted'}`);
    const findings = result.findings || [];
    const notices = result.notices || [];
    main.textContent = '';
    main.append(h('section', { class: 'ck-result', 'data-testid': 'result' },
      h('div', { class: 'ck-result-head' }, h('span', { class: 'ck-result-mark', 'aria-hidden': 'true', text: '✓' }), h('h2', { tabindex: '-1', text: msg('result_title') })),
      h('p', { class: 'ck-result-count', 'data-testid': 'findings-count', 'data-count': String(findings.length), text: findings.length ? msg('result_findings', { n: findings.length }) : msg('result_no_findings') }),
      findings.length ? h('ol', { class: 'ck-findings' }, findings.map((f) => h('li', {},
        h('strong', { text: tx(f.text) || f.item_id }),
        f.answer_text ? h('span', { class: 'ck-finding-answer', text: ` — ${tx(f.answer_text)}` }) : null,
        f.severity === 'major_hazard' ? h('span', { class: 'badge badge-danger', text: msg('major_hazard') }) : null))) : null,
      h('h3', { text: msg('result_notices') }),
      result.complete ? null : h('p', { class: 'ck-pending', role: 'status', 'data-testid': 'result-pending', text: msg('result_pending') }),
      notices.length ? h('ul', { class: 'ck-notices' }, notices.map((n) => h('li', { class: 'ck-notice-row' },
        h('span', { class: 'ck-notice-number', 'data-testid': 'notice-number', text: n.number }),
        n.major_hazard ? h('span', { class: 'badge badge-danger', text: msg('major_hazard') }) : null,
        h('span', { class: 'ck-notice-links' },
          n.html_url ? h('a', { class: 'btn', href: n.html_url, target: '_blank', rel: 'noopener', text: msg('notice_html') }) : null,
          n.pdf_url ? h('a', { class: 'btn', href: n.pdf_url, target: '_blank', rel: 'noopener', text: msg('notice_pdf') }) : null)))) : result.complete ? h('p', { class: 'muted', text: msg('result_no_notices') }) : null,
      h('p', { class: 'muted', text: msg('result_cleared') }),
      h('a', { class: 'btn btn-primary', href: '/inspections', text: msg('back_to_list') })));
    if (!S.resultShown) main.querySelector('.ck-result h2').focus();
    S.resultShown = true;
  }

  // ───────────────────────────── loading ─────────────────────────────

  /** Picks the draft to work on: the device's unless it is unchanged and the server's is newer. */
  function mergeDrafts(local, server) {
    const srv = server || { answers: {}, rev: 0 };
    const srvRev = typeof srv.rev === 'number' ? srv.rev : 0;
    if (local) {
      const localDirty = local.rev > local.synced_rev;
      if (localDirty || srvRev <= (local.server_rev || 0)) {
        if (localDirty && Object.keys(local.answers || {}).length) flash(msg('restored_local'), 'info');
        const rev = Math.max(local.rev, srvRev);
        return Object.assign({ submit: null }, local, { rev, synced_rev: localDirty ? local.synced_rev : rev });
      }
      flash(msg('restored_server'), 'info');
    }
    // Local revs continue from the server's so that client_rev only ever grows.
    const rev = Math.max(srvRev, local ? local.rev : 0);
    return { id: ID, answers: JSON.parse(JSON.stringify(srv.answers || {})), rev, synced_rev: rev, server_rev: srvRev, updated_ms: Date.now(), submit: local ? local.submit || null : null };
  }

  async function load() {
    let data = null;
    try {
      data = await api('GET', API);
      store.put('snapshots', { id: ID, data, saved_ms: Date.now() }).catch(() => {});
      cachePut(API, data);
    } catch (e) {
      if (e instanceof HttpError && (e.status === 404 || e.status === 403)) { fatal(msg('not_found')); return; }
      const snap = await store.get('snapshots', ID).catch(() => null);
      if (snap && snap.data) data = snap.data;
      else if (e instanceof HttpError && e.status === 401) { fatal(msg('sync_auth')); setSync('auth'); return; }
      else if (e instanceof NetError) { fatal(navigator.onLine ? msg('load_failed', { detail: e.message }) : msg('offline_no_copy'), true); return; }
      else { fatal(msg('load_failed', { detail: e.message }), true); return; }
    }
    S.inspection = data.inspection || {};
    S.tpl = data.template;
    if (!S.tpl || !Array.isArray(S.tpl.sections)) { fatal(msg('load_failed', { detail: 'template' }), true); return; }
    S.tpl.sections.forEach((sec, si) => sec.items.forEach((item, ii) => {
      const entry = { item, section: sec, number: `${si + 1}.${ii + 1}` };
      S.order.push(entry);
      S.items.set(item.id, entry);
    }));
    renderHeader();
    root.classList.remove('ck-loading');
    if (data.result) {
      S.draft = { id: ID, answers: {}, rev: 0, synced_rev: 0, server_rev: 0 };
      await finish(data.result, data.inspection);
      return;
    }
    const local = await store.get('drafts', ID).catch(() => null);
    S.draft = mergeDrafts(local, data.draft);
    S.assigned = (S.inspection.inspectors || []).some((p) => (ME.username && p.username === ME.username) || (ME.id != null && p.id === ME.id));
    S.readonly = ['submitted', 'completed'].includes(S.inspection.status) || !S.assigned;
    for (const p of await store.photosOf(ID).catch(() => [])) S.photos.set(p.id, p);
    await saveDraft();
    renderNav();
    renderSections();
    if (S.readonly) flash(S.assigned ? msg('readonly') : msg('not_assigned'), 'info', true);
    let start = null;
    try { start = localStorage.getItem(`qingling-checklist-section-${ID}`); } catch (_) { /* private mode */ }
    if (!start || !(start === SUMMARY || S.tpl.sections.some((s) => s.id === start))) start = S.tpl.sections[0] ? S.tpl.sections[0].id : SUMMARY;
    goTo(start, true);
    refresh();
    setSync(S.readonly ? 'synced' : idleState());
    if (dirty() || pendingPhotos().length || needsStart()) scheduleSync(0);
    root.dataset.ready = 'true';
  }

  // Keeps the sticky section list below the sticky header, whatever height the header wraps to.
  const head = root.querySelector('.ck-head');
  const setHeadHeight = () => root.style.setProperty('--ck-head-h', `${Math.ceil(head.getBoundingClientRect().height)}px`);
  if ('ResizeObserver' in window) new ResizeObserver(setHeadHeight).observe(head);
  setHeadHeight();

  window.addEventListener('online', () => { if (S.draft) flush(); });
  window.addEventListener('offline', () => { if (S.draft && !S.done) setSync('offline'); });
  document.addEventListener('visibilitychange', () => { if (document.visibilityState === 'hidden' && S.draft && !S.done) saveDraft(); });

  registerServiceWorker();
  load().catch((e) => fatal(msg('load_failed', { detail: e.message || e }), true));
})();
