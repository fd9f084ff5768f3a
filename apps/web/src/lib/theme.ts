/**
 * The colour theme: light, dark, or the system's. Kept in localStorage and applied to the
 * document (`data-theme` on <html>) so screens outside the chat kit follow it too.
 */
import { useEffect, useState, useSyncExternalStore } from 'react';

export type ThemeChoice = 'light' | 'dark' | 'system';
const KEY = 'parley:theme';
const CHANGE = 'parley:theme';

function read(): ThemeChoice {
  try {
    const v = localStorage.getItem(KEY);
    return v === 'light' || v === 'dark' ? v : 'system';
  } catch {
    return 'system';
  }
}

/** Save a theme choice; every `useTheme` re-renders. */
export function setThemeChoice(choice: ThemeChoice): void {
  try {
    if (choice === 'system') localStorage.removeItem(KEY);
    else localStorage.setItem(KEY, choice);
  } catch {
    // private mode: the choice lasts for this page only
  }
  window.dispatchEvent(new Event(CHANGE));
}

function subscribe(fn: () => void) {
  window.addEventListener(CHANGE, fn);
  window.addEventListener('storage', fn);
  return () => {
    window.removeEventListener(CHANGE, fn);
    window.removeEventListener('storage', fn);
  };
}

function useSystemDark(): boolean {
  const query = typeof window !== 'undefined' ? window.matchMedia?.('(prefers-color-scheme: dark)') : undefined;
  const [dark, setDark] = useState(query?.matches ?? false);
  useEffect(() => {
    if (!query) return;
    const on = () => setDark(query.matches);
    query.addEventListener('change', on);
    return () => query.removeEventListener('change', on);
  }, [query]);
  return dark;
}

/** The theme choice and the resulting theme; applies it to the document. */
export function useTheme(): { choice: ThemeChoice; theme: 'light' | 'dark' } {
  const choice = useSyncExternalStore(subscribe, read, read);
  const systemDark = useSystemDark();
  const theme = choice === 'system' ? (systemDark ? 'dark' : 'light') : choice;
  useEffect(() => {
    document.documentElement.dataset.theme = theme;
    document
      .querySelector('meta[name="theme-color"]')
      ?.setAttribute('content', theme === 'dark' ? '#1a1730' : '#2b2160');
  }, [theme]);
  return { choice, theme };
}
