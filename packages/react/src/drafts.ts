/**
 * Unsent text per conversation: kept in memory, and in `localStorage` when the page has it
 * (so a draft survives a reload). Keys include the user, so two accounts on one browser do not
 * see each other's drafts. Storage failures (quota, private mode) fall back to memory only.
 */

const memory = new Map<string, string>();
const PREFIX = 'parley:draft:';

function storage(): Storage | null {
  try {
    return typeof localStorage !== 'undefined' ? localStorage : null;
  } catch {
    return null; // some browsers throw on access when storage is disabled
  }
}

/** The storage key of a draft: user, channel, and thread (empty for the channel itself). */
export function draftKey(userId: string | null, cid: string, parentId: string | null = null): string {
  return `${userId ?? '-'}:${cid}:${parentId ?? ''}`;
}

/** The draft saved under `key`, or an empty string. */
export function loadDraft(key: string): string {
  const hit = memory.get(key);
  if (hit !== undefined) return hit;
  try {
    return storage()?.getItem(PREFIX + key) ?? '';
  } catch {
    return '';
  }
}

/** Save (or, for empty text, forget) the draft under `key`. */
export function saveDraft(key: string, text: string): void {
  if (text) memory.set(key, text);
  else memory.delete(key);
  try {
    const s = storage();
    if (text) s?.setItem(PREFIX + key, text);
    else s?.removeItem(PREFIX + key);
  } catch {
    // memory keeps it for this page
  }
}

/** Forget every draft in memory (storage is left alone). For tests and sign-out flows. */
export function clearDraftMemory(): void {
  memory.clear();
}
