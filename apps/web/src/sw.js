// Parley's service worker: makes the app installable and lets it start without a network.
// The build (vite.config.ts) writes it to dist/sw.js with the list of the build's files and a
// version made from them: each build is a new worker, which caches that build's files whole when
// it installs — the page, its scripts and styles, the chunks loaded later (the emoji picker) —
// so the installed app opens offline, and drops the caches of older builds when it takes over.
// Pages are network-first (a new build shows at once; the last page is the fallback offline);
// hashed assets are cache-first (their names change with their content). The API, the
// WebSocket and anything cross-origin are never touched: chat data comes from the SDK's own
// offline store (IndexedDB), and what the app needs to open offline from localStorage
// (src/lib/offline.ts).
//
// Web Push: the server sends a payload (protocol PushPayload: title, body, cid, collapse_key,
// badge …) encrypted to this worker's subscription; the worker shows it, tagged with the
// collapse key so a thread's notifications replace each other, and a click opens (or focuses)
// the conversation.
const VERSION = '__PARLEY_BUILD__';
const PRECACHE = ['/__PARLEY_FILES__'];
const CACHE = `parley-shell-${VERSION}`;
const SHELL = ['/', '/manifest.webmanifest', '/icons/icon-192.png', '/icons/icon.svg'];

self.addEventListener('install', (event) => {
  event.waitUntil(
    caches
      .open(CACHE)
      .then((c) => c.addAll([...SHELL, ...PRECACHE.filter((f) => f.startsWith('/assets/'))]))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) =>
        Promise.all(keys.filter((k) => k.startsWith('parley-shell-') && k !== CACHE).map((k) => caches.delete(k))),
      )
      .then(() => self.clients.claim()),
  );
});

self.addEventListener('fetch', (event) => {
  const req = event.request;
  const url = new URL(req.url);
  if (req.method !== 'GET' || url.origin !== self.location.origin) return;
  if (/^\/(v1|docs|healthz|readyz|metrics)(\/|$)/.test(url.pathname)) return;
  if (req.mode === 'navigate') {
    event.respondWith(
      fetch(req)
        .then((res) => {
          if (res.ok) {
            const copy = res.clone();
            void caches.open(CACHE).then((c) => c.put('/', copy));
          }
          return res;
        })
        .catch(() => caches.match('/', { cacheName: CACHE }).then((hit) => hit ?? Response.error())),
    );
    return;
  }
  if (
    url.pathname.startsWith('/assets/') ||
    url.pathname.startsWith('/icons/') ||
    url.pathname === '/manifest.webmanifest'
  ) {
    event.respondWith(
      caches.match(req).then(
        (hit) =>
          hit ??
          fetch(req).then((res) => {
            if (res.ok) {
              const copy = res.clone();
              void caches.open(CACHE).then((c) => c.put(req, copy));
            }
            return res;
          }),
      ),
    );
  }
});

self.addEventListener('push', (event) => {
  let p = null;
  try {
    p = event.data ? event.data.json() : null;
  } catch {
    p = null;
  }
  if (!p || typeof p.title !== 'string') return;
  const url =
    p.app_id && p.cid ? `/w/${encodeURIComponent(p.app_id)}/c/${encodeURIComponent(p.cid).replace(/%3A/g, ':')}` : '/';
  const shown = self.registration.showNotification(p.title, {
    body: p.body,
    tag: p.collapse_key,
    renotify: true,
    icon: '/icons/icon-192.png',
    badge: '/icons/icon-192.png',
    data: { url, message_id: p.message_id },
  });
  const badge =
    typeof p.badge === 'number' && self.navigator.setAppBadge
      ? self.navigator.setAppBadge(p.badge).catch(() => {})
      : null;
  event.waitUntil(Promise.all([shown, badge]));
});

self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  const url = new URL(event.notification.data?.url || '/', self.location.origin).href;
  event.waitUntil(
    self.clients.matchAll({ type: 'window', includeUncontrolled: true }).then(async (wins) => {
      const open = wins.find((w) => new URL(w.url).origin === self.location.origin);
      if (!open) return self.clients.openWindow(url);
      // To the front (allowed in answer to the click; a refusal must not keep the conversation
      // from opening), then to the conversation.
      await open.focus().catch(() => {});
      if ('navigate' in open) await open.navigate(url);
    }),
  );
});
