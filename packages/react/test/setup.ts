/**
 * Vitest setup, run before every test file (vitest.config.ts `setupFiles`). Testing Library
 * unmounts what a test rendered through an `afterEach` it registers when first imported; the
 * files of a worker share their modules (`isolate: false`), so only the first DOM file of a
 * worker would get it, and the next would find the last one's components still on the page.
 */
import { afterEach } from 'vitest';

afterEach(async () => {
  if (typeof document === 'undefined') return;
  const { cleanup } = await import('@testing-library/react');
  cleanup();
});
