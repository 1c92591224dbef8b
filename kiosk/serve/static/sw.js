// The service worker (issue 27): the pages, styles, scripts and the way-A decoder kept on the phone, so
// every page opens with no signal. Served at /sw.js with its configuration filled in (kiosk/serve/assets.py):
// the version (a digest of every asset and page template), the hashed URLs to keep, the pages.
// - /static/h/<digest>/…: immutable; from the cache, else fetched once and kept. Core files are fetched
//   when the worker installs, the decoder when the sign-in page loads (it asks for it at once).
// - pages: kept when the worker installs (the bound phone's home, code and sign-in pages) and whenever
//   they load; from the network (kept for later), and from the cache when the network fails or is slower
//   than NAV_TIMEOUT_MS: then the page carries data-offline="1" and says so in a plain line.
// - /signin (QUICK_PAGES): the kept copy at once, refreshed behind it (its data come by the API).
// - a page answered 401 (the phone's binding revoked) empties the kept pages.
"use strict";
const CONFIG = /*CONFIG*/{};
const ASSETS = "assets";
const PAGES = "pages-" + CONFIG.version;
const NAV_TIMEOUT_MS = 4000;

self.addEventListener("install", (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(ASSETS);
    await cache.addAll(CONFIG.precache.filter(Boolean));
    await fillPages();
    await self.skipWaiting();
  })());
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    const keep = new Set([...CONFIG.precache, ...CONFIG.decoder].map((u) => new URL(u, self.location).href));
    const cache = await caches.open(ASSETS);
    for (const req of await cache.keys()) if (!keep.has(req.url)) await cache.delete(req);
    const old = (await caches.keys()).filter((n) => n.startsWith("pages-") && n !== PAGES);
    // the pages of the previous version stay until this version has its own copy of each
    const mine = await caches.open(PAGES);
    for (const name of old) {
      const prev = await caches.open(name);
      for (const req of await prev.keys()) {
        if (!(await mine.match(req))) await mine.put(req, await prev.match(req));
      }
      await caches.delete(name);
    }
    await self.clients.claim();
  })());
});

// the bound phone's own pages not kept yet (the code page opens with no signal even if never opened
// before): fetched when the worker installs and after each page that loads (the phone may be bound only
// after the worker installed, on the activation page)
async function fillPages() {
  const pages = await caches.open(PAGES);
  await Promise.all(CONFIG.pages.map(async (path) => {
    const key = new URL(path, self.location).href;
    if (await pages.match(key)) return;
    try {
      const res = await fetch(path, { credentials: "same-origin" });
      if (res.status === 200) await pages.put(key, res);
    } catch (e) { /* kept when next opened */ }
  }));
}

function pageKey(url) {
  const u = new URL(url);
  return u.origin + u.pathname;
}

async function offlineCopy(request) {
  const cache = await caches.open(PAGES);
  const hit = await cache.match(pageKey(request.url));
  if (!hit) return null;
  const html = (await hit.text()).replace("<html ", '<html data-offline="1" ');
  return new Response(html, { headers: { "Content-Type": "text/html; charset=utf-8" } });
}

// a page whose HTML holds nothing that changes (its data come by the API): the kept copy at once, refreshed
// behind it, so a weak signal costs no round trip before the page can be used (way A)
async function quickPage(event) {
  const request = event.request;
  const cache = await caches.open(PAGES);
  const hit = await cache.match(pageKey(request.url));
  const network = fetch(request).then(async (res) => {
    if (res.status === 200) await cache.put(pageKey(request.url), res.clone());
    else if (res.status === 401) await caches.delete(PAGES);
    return res;
  });
  if (hit) {
    event.waitUntil(network.catch(() => null));
    return hit;
  }
  return page(event, network);
}

async function page(event, started) {
  const request = event.request;
  const path = new URL(request.url).pathname;  // every page but an activation link's (one use)
  const kept = CONFIG.pages.includes(path) || !CONFIG.never_kept.some((p) => path.startsWith(p));
  const network = started || fetch(request).then(async (res) => {
    if (kept && res.status === 200) {
      const cache = await caches.open(PAGES);
      await cache.put(pageKey(request.url), res.clone());
      event.waitUntil(fillPages()); // while this fetch's own waitUntil is pending: allowed
    } else if (res.status === 401) {
      await caches.delete(PAGES);
    }
    return res;
  });
  event.waitUntil(network.catch(() => null));
  let timer;
  const slow = new Promise((resolve) => { timer = setTimeout(resolve, NAV_TIMEOUT_MS, null); });
  try {
    const first = await Promise.race([network, slow]);
    if (first) return first;
    const copy = await offlineCopy(request);
    return copy || (await network);
  } catch (e) {
    const copy = await offlineCopy(request);
    if (copy) return copy;
    const words = CONFIG.offline_page || "没有网络，恢复后会自动重试 / No connection: it will retry when the signal returns";
    return new Response(`<!doctype html><meta charset="utf-8"><meta name="viewport" content="width=device-width">` +
      `<title>实名制</title><p>${words}</p>`, { status: 503, headers: { "Content-Type": "text/html; charset=utf-8" } });
  } finally {
    clearTimeout(timer);
  }
}

async function asset(request) {
  const cache = await caches.open(ASSETS);
  const hit = await cache.match(request, { ignoreVary: true });
  if (hit) return hit;
  const res = await fetch(request);
  if (res.status === 200) await cache.put(request, res.clone());
  return res;
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (url.pathname.startsWith("/static/h/")) { event.respondWith(asset(request)); return; }
  if (request.mode === "navigate" && url.pathname.startsWith("/lang/")) {
    // another language: the kept pages are in the old one
    event.respondWith(caches.delete(PAGES).then(() => fetch(request)));
    return;
  }
  if (request.mode === "navigate") {
    event.respondWith(CONFIG.quick_pages.includes(url.pathname) ? quickPage(event) : page(event));
  }
});
