/**
 * What the web app's phone tests share: a browser context that is a phone (Chromium's phone
 * emulation: viewport, device scale factor, touch, a phone's user agent), a long press, and the
 * layout checks every phone screen must pass, read from the page itself (bounding boxes):
 *
 * - nothing is wider than the screen: the page does not slide sideways
 *   (`document.scrollingElement.scrollWidth ≤ innerWidth`), and no element reaches past either
 *   edge — cut off by the screen or by an ancestor that hides it alike — unless it is inside
 *   something that scrolls sideways on purpose, or is text cut with an ellipsis;
 * - the header of the pane in view: its parts (the back button, the title, each button) lie
 *   inside the screen and the header, no two intersect, and the title is readable — wider than
 *   zero and not clipped, or, when the name is too long for the screen, cut with an ellipsis
 *   after at least 100 px of it, its full text the title element's `title` (the tooltip; a
 *   screen reader reads the full text either way);
 * - every touch target in view — a button, link, field, menu item, tab or option that a finger
 *   can reach (its centre on the screen and the element there, not under another pane) — is at
 *   least 44×44 CSS px, except links inside a message's text: inline targets, which WCAG 2.5.8
 *   exempts (a line of text cannot be 44 px tall). A checkbox or radio inside a `<label>` is
 *   measured by its label, which a tap toggles it through.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';

/** Phone widths the app is laid out for (CSS px), with a usual height for each. */
export const PHONES = [
  { width: 360, height: 780 },
  { width: 390, height: 844 },
  { width: 430, height: 932 },
] as const;

/** Tablet widths (portrait and landscape): two panes side by side. */
export const TABLETS = [
  { width: 768, height: 1024 },
  { width: 1024, height: 768 },
] as const;

const ANDROID =
  'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36';

/** A context that is a phone `width` px wide: touch, a device scale factor of 3, a mobile viewport. */
export function phoneContext(
  browser: Browser,
  base: string,
  size: { width: number; height: number } = PHONES[1],
): Promise<BrowserContext> {
  return browser.newContext({
    baseURL: base,
    viewport: size,
    screen: size,
    deviceScaleFactor: 3,
    isMobile: true,
    hasTouch: true,
    userAgent: ANDROID,
    serviceWorkers: 'allow',
  });
}

/**
 * Touch and hold at `target` until `until` holds (what the long press opens), then lift the
 * finger: a long press that waits on what it opens, not on a timer of its own.
 */
export async function longPress(page: Page, target: { x: number; y: number }, until: () => Promise<boolean>) {
  const cdp = await page.context().newCDPSession(page);
  const point = { x: target.x, y: target.y, radiusX: 4, radiusY: 4, force: 1, id: 1 };
  try {
    await cdp.send('Input.dispatchTouchEvent', { type: 'touchStart', touchPoints: [point] });
    for (let i = 0; i < 200 && !(await until()); i++) await page.waitForTimeout(25);
    await cdp.send('Input.dispatchTouchEvent', { type: 'touchEnd', touchPoints: [] });
  } finally {
    await cdp.detach();
  }
}

/** The centre of an element's box, for touch events. */
export async function centre(page: Page, selector: string): Promise<{ x: number; y: number }> {
  const box = await page.locator(selector).first().boundingBox();
  if (!box) throw new Error(`${selector} is not on screen`);
  return { x: box.x + box.width / 2, y: box.y + box.height / 2 };
}

/** The headers of the app's panes, the last one on screen being the pane in front. */
const HEADERS = [
  '.app-sidebar__header',
  '.app-channel-header',
  '.app-office__header',
  '.parley-thread__header',
  '.app-panel__header',
];

/**
 * What is wrong with the screen as it is now (see the module comment): an empty list when
 * nothing is. `header: false` for a screen without a pane header (sign-in, a bottom sheet's
 * page underneath is still checked for width and targets).
 */
export function layoutProblems(page: Page, opts: { header?: boolean; minTarget?: number } = {}): Promise<string[]> {
  const screen = page.viewportSize();
  if (!screen) throw new Error('layoutProblems needs a page with a viewport');
  return page.evaluate(
    ({ headers, wantHeader, min, minTitle, screen }) => {
      const problems: string[] = [];
      // The screen's width, not the page's: a phone's browser zooms out to fit a page wider
      // than the screen, and then innerWidth is the page's width.
      const vw = screen.width;
      const vh = window.innerHeight;
      if (window.innerWidth > vw)
        problems.push(`the page is laid out ${window.innerWidth} px wide on a ${vw} px screen`);
      const name = (el: Element) => {
        const label =
          el.getAttribute('aria-label') ??
          el.getAttribute('title') ??
          (el.textContent ?? '').trim().replace(/\s+/g, ' ').slice(0, 40);
        const cls = typeof el.className === 'string' ? el.className.split(' ')[0] : '';
        return `<${el.tagName.toLowerCase()}${cls ? `.${cls}` : ''}> "${label}"`;
      };
      const px = (n: number) => Math.round(n * 10) / 10;
      const shown = (el: Element) => {
        const r = el.getBoundingClientRect();
        return r.width > 0 && r.height > 0 && el.checkVisibility({ visibilityProperty: true, opacityProperty: true });
      };
      /** Whether the element is what a finger at its centre would touch (not under another pane). */
      const onTop = (el: Element) => {
        const r = el.getBoundingClientRect();
        const x = r.left + r.width / 2;
        const y = r.top + r.height / 2;
        if (x < 0 || y < 0 || x > vw || y > vh) return false;
        const hit = document.elementFromPoint(x, y);
        return !!hit && (hit === el || el.contains(hit) || hit.contains(el));
      };

      // 1. Nothing wider than the screen.
      const sw = document.scrollingElement?.scrollWidth ?? 0;
      if (sw > vw) problems.push(`the page is ${sw} px wide on a ${vw} px screen`);
      for (const el of document.body.querySelectorAll('*')) {
        if (!shown(el)) continue;
        const r = el.getBoundingClientRect();
        if (r.right <= vw + 0.5 && r.left >= -0.5) continue;
        // What scrolls sideways on purpose (a scroller: overflow-x auto or scroll), and text cut
        // with an ellipsis, may reach past the edge; anything else is cut off by the screen,
        // whether or not an ancestor hides the overflow.
        let allowed = false;
        for (let a: Element | null = el; a && a !== document.body; a = a.parentElement) {
          const st = getComputedStyle(a);
          // (A vertical scroller's overflow-x computes to auto too: that is no sideways scroller.)
          const sideways = st.overflowX === 'auto' || st.overflowX === 'scroll';
          const vertical = st.overflowY === 'auto' || st.overflowY === 'scroll';
          if (a !== el && sideways && !vertical) allowed = true;
          if (st.textOverflow === 'ellipsis' && st.overflowX !== 'visible') allowed = true;
          if (allowed) break;
        }
        // Off-screen on purpose (screen-reader-only text).
        if (allowed || el.closest('[aria-hidden="true"], .app-sr-only, .parley-sr-only')) continue;
        problems.push(`${name(el)} reaches past the screen: ${px(r.left)}–${px(r.right)} of ${vw}`);
      }

      // 2. The header of the pane in front.
      if (wantHeader) {
        const header = [...document.querySelectorAll(headers.join(','))].filter((h) => shown(h) && onTop(h)).pop();
        if (!header) problems.push('no pane header on screen');
        else {
          const hr = header.getBoundingClientRect();
          const titleEl = header.querySelector('h1, h2, [data-testid="workspace-name"]');
          // The buttons beside the title (the title may sit inside one: the workspace menu's).
          const parts: Element[] = [...header.querySelectorAll('button, a[href], input')].filter(
            (b) => shown(b) && !titleEl?.contains(b) && !b.contains(titleEl) && !b.closest('[role="menu"]'),
          );
          if (!titleEl) problems.push(`${name(header)} has no title`);
          // The title's text: the innermost element holding it (a span after an icon).
          const text =
            (titleEl && [...titleEl.querySelectorAll('span')].filter((s) => s.children.length === 0).pop()) ?? titleEl;
          if (text) {
            const tr = text.getBoundingClientRect();
            const full = (titleEl?.textContent ?? '').trim();
            if (tr.width < 1) problems.push(`the title "${full}" is ${px(tr.width)} px wide`);
            if (text.scrollWidth > text.clientWidth + 1) {
              // Cut: only a name too long for the screen, and never to a stub.
              const ellipsis = getComputedStyle(text).textOverflow === 'ellipsis';
              const titled = titleEl?.closest('[title]')?.getAttribute('title')?.trim() === full;
              if (!ellipsis || !titled)
                problems.push(
                  `the title "${full}" is clipped (${text.clientWidth} of ${text.scrollWidth} px) ${ellipsis ? 'with no title attribute' : 'without an ellipsis'}`,
                );
              else if (text.clientWidth < Math.min(text.scrollWidth, minTitle))
                problems.push(`the title "${full}" is cut to ${text.clientWidth} px (under ${minTitle})`);
            }
            parts.push(text);
          }
          for (const p of parts) {
            const r = p.getBoundingClientRect();
            if (r.left < -0.5 || r.right > vw + 0.5 || r.top < hr.top - 0.5 || r.bottom > hr.bottom + 0.5)
              problems.push(`${name(p)} lies outside its header or the screen`);
          }
          for (let i = 0; i < parts.length; i++)
            for (let j = i + 1; j < parts.length; j++) {
              const a = (parts[i] as Element).getBoundingClientRect();
              const b = (parts[j] as Element).getBoundingClientRect();
              const w = Math.min(a.right, b.right) - Math.max(a.left, b.left);
              const h = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
              if (w > 0.5 && h > 0.5)
                problems.push(`${name(parts[i] as Element)} and ${name(parts[j] as Element)} overlap in the header`);
            }
        }
      }

      // 3. Touch targets.
      const targets = document.querySelectorAll(
        'button, a[href], input:not([type="hidden"]), select, textarea, summary, [role="button"], [role="menuitem"], [role="tab"], [role="option"], [role="link"]',
      );
      for (const el of targets) {
        if (!shown(el) || !onTop(el)) continue;
        if (el.closest('.parley-markdown') && el.tagName === 'A') continue; // inline, in a sentence
        if ((el as HTMLButtonElement).disabled) continue;
        // A checkbox or radio inside its label: the label is what a finger taps (it toggles it).
        const box = el.matches('input[type="checkbox"], input[type="radio"]') ? (el.closest('label') ?? el) : el;
        const r = box.getBoundingClientRect();
        if (r.width < min - 0.5 || r.height < min - 0.5)
          problems.push(`${name(el)} is ${px(r.width)}×${px(r.height)} px, under ${min}×${min}`);
      }
      return problems;
    },
    { headers: HEADERS, wantHeader: opts.header ?? true, min: opts.minTarget ?? 44, minTitle: 100, screen },
  );
}
