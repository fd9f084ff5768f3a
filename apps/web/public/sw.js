// Parley's service worker: makes the app installable and lets it start without a network.
// Pages are network-first (a new build shows at once; the last shell is the fallback offline);
// hashed assets are cache-first (their names change with their content). The API, the
// WebSocket and anything cross-origin are never touched: chat data comes from the SDK's own
// offline store.
//
// Web Push: the server sends a payload (protocol PushPayload: title, body, cid, collapse_key,
// badge …) encrypted to this worker's subscription; the worker shows it, tagged with the
// collapse key so a thread's notifications replace each other, and a click opens (or focuses)
// the conversation.
const CACHE = 'parley-shell-v1';

self.addEventListener('install', (event) => {
  event.waitUntil(
    caches
      .open(CACHE)
      .then((c) => c.addAll(['/', '/manifest.webmanifest']))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
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
        .catch(() => caches.match('/').then((hit) => hit ?? Response.error())),
    );
    return;
  }
  if (url.pathname.startsWith('/assets/') || url.pathname.startsWith('/icons/')) {
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
    self.clients.matchAll({ type: 'window', includeUncontrolled: true }).then((wins) => {
      const open = wins.find((w) => new URL(w.url).origin === self.location.origin);
      if (open) return open.focus().then((w) => (w && 'navigate' in w ? w.navigate(url) : undefined));
      return self.clients.openWindow(url);
    }),
  );
});
