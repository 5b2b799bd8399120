// Confirmation of a consequential button (`data-confirm="…"`), here rather than an inline
// handler: the pages' CSP runs no inline script.
document.addEventListener('click', (e) => {
  const button = e.target.closest && e.target.closest('[data-confirm]');
  if (button && !window.confirm(button.dataset.confirm)) e.preventDefault();
});

// Signing out of a shared tablet: before the logout form is sent, remove what the checklist page
// keeps on the device that the server already has — the offline page cache (which holds API
// answers), the API snapshots, synced drafts and uploaded photos. Answers not yet synced stay:
// they are the only copy, and they are sent the next time an inspector opens that checklist.
(function () {
  'use strict';
  const form = document.querySelector('form[action="/logout"]');
  if (!form) return;

  function request(r) {
    return new Promise((resolve, reject) => { r.onsuccess = () => resolve(r.result); r.onerror = () => reject(r.error); });
  }

  async function tidy() {
    if ('caches' in window) {
      const keys = await caches.keys();
      await Promise.all(keys.filter((k) => k.startsWith('qingling-checklist-')).map((k) => caches.delete(k)));
    }
    if (!('indexedDB' in window) || !indexedDB.databases) return 0;
    const dbs = await indexedDB.databases();
    if (!dbs.some((d) => d.name === 'qingling-checklist')) return 0;
    const db = await request(indexedDB.open('qingling-checklist'));
    try {
      const tr = db.transaction(['drafts', 'photos', 'snapshots'], 'readwrite');
      const done = new Promise((resolve, reject) => { tr.oncomplete = resolve; tr.onerror = () => reject(tr.error); });
      tr.objectStore('snapshots').clear();
      const drafts = await request(tr.objectStore('drafts').getAll());
      let kept = 0;
      for (const d of drafts) {
        if (d.rev > d.synced_rev || d.submit) kept += 1;
        else tr.objectStore('drafts').delete(d.id);
      }
      const photos = await request(tr.objectStore('photos').getAll());
      for (const p of photos) if (p.sha256) tr.objectStore('photos').delete(p.id);
      await done;
      return kept;
    } finally {
      db.close();
    }
  }

  let tidied = false;
  form.addEventListener('submit', (ev) => {
    if (tidied) return;
    ev.preventDefault();
    const timeout = new Promise((resolve) => setTimeout(() => resolve(0), 1500));
    Promise.race([tidy(), timeout])
      .catch(() => 0)
      .then((kept) => {
        if (kept > 0 && !window.confirm(form.dataset.unsynced || '')) return;
        tidied = true;
        form.submit();
      });
  });
})();
