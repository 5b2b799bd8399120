// The checklist's service worker (served at /sw.js, registered for /inspections/ by checklist.js).
// It keeps the checklist page, its assets and the last answer of GET /api/inspections/{id} so
// that the page opens again without a network; the answers themselves live in IndexedDB.
// Network first everywhere: online, the inspector always gets the current page and data, and
// every good answer refreshes the copy. Nothing else of the console is touched.
'use strict';

const CACHE = 'qingling-checklist-v2';
const ASSETS = ['/assets/app.css', '/assets/checklist.css', '/assets/checklist-rules.js', '/assets/checklist.js'];

self.addEventListener('install', (event) => {
  event.waitUntil(
    caches.open(CACHE)
      .then((cache) => cache.addAll(ASSETS))
      .catch(() => {}) // the page stores what is missing on its next visit
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys.filter((k) => k.startsWith('qingling-checklist-') && k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

/** What the worker keeps: the fill page, the inspection's API answer and the page's assets. */
function kept(url) {
  if (url.origin !== self.location.origin) return null;
  const p = url.pathname;
  if (/^\/inspections\/[^/]+\/fill$/.test(p)) return 'page';
  if (/^\/api\/inspections\/[^/]+$/.test(p)) return 'api';
  if (ASSETS.includes(p)) return 'asset';
  return null;
}

async function networkFirst(request, kind) {
  const cache = await caches.open(CACHE);
  // The page is stored under its path alone: a query string does not make another page.
  const key = kind === 'page' ? new URL(request.url).pathname : request;
  try {
    const response = await fetch(request);
    // Only a real page or answer is kept: not a redirect to sign-in, not an error.
    if (response.ok && response.type === 'basic' && !response.redirected) {
      await cache.put(key, response.clone());
    }
    return response;
  } catch (err) {
    const hit = await cache.match(key, { ignoreSearch: kind === 'page' });
    if (hit) return hit;
    throw err;
  }
}

self.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET') return;
  const kind = kept(new URL(request.url));
  if (!kind) return;
  event.respondWith(networkFirst(request, kind));
});
