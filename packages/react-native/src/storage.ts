/**
 * Offline storage on a phone, behind the SDK's `StorageAdapter` (get, set, delete of JSON
 * values): AsyncStorage or MMKV. The app passes the module it installed, so this package needs
 * neither (both are native modules; an app has one or the other).
 *
 * ```ts
 * import AsyncStorage from '@react-native-async-storage/async-storage';
 * new ChatClient({ url, apiKey, storage: new AsyncStorageAdapter(AsyncStorage) });
 * ```
 */
import type { StorageAdapter } from '@parley/client';

/** The part of AsyncStorage's API the adapter uses (`@react-native-async-storage/async-storage`'s default export). */
export interface AsyncStorageLike {
  getItem(key: string): Promise<string | null>;
  setItem(key: string, value: string): Promise<void>;
  removeItem(key: string): Promise<void>;
  multiRemove?(keys: readonly string[]): Promise<void>;
}

/** Options of {@link AsyncStorageAdapter}. */
export interface AsyncStorageAdapterOptions {
  /**
   * Longest string written under one key, in characters (default 500,000). Android's
   * AsyncStorage reads a row through a 2 MB window and fails on longer ones; the client's state
   * (channels with their recent messages) can pass that, so longer values are split over keys.
   */
  chunkSize?: number;
}

/** A split value's first row: how many parts follow under `key#1` … `key#N`. */
const CHUNKED = '\u0000parley-chunks:';

/**
 * AsyncStorage as the client's offline store. Values are JSON; one longer than `chunkSize` is
 * written as parts, the parts first and the row that names them last, so a reader never sees a
 * row naming parts that are not written yet.
 */
export class AsyncStorageAdapter implements StorageAdapter {
  private readonly chunkSize: number;

  constructor(
    private readonly storage: AsyncStorageLike,
    opts: AsyncStorageAdapterOptions = {},
  ) {
    this.chunkSize = Math.max(1024, opts.chunkSize ?? 500_000);
  }

  async get<T>(key: string): Promise<T | undefined> {
    const head = await this.storage.getItem(key);
    if (head === null) return undefined;
    if (!head.startsWith(CHUNKED)) return JSON.parse(head) as T;
    const n = Number(head.slice(CHUNKED.length));
    const parts = await Promise.all(Array.from({ length: n }, (_, i) => this.storage.getItem(`${key}#${i + 1}`)));
    // A part missing (storage cleared under us): as if nothing were stored.
    if (parts.some((p) => p === null)) return undefined;
    return JSON.parse(parts.join('')) as T;
  }

  async set<T>(key: string, value: T): Promise<void> {
    const json = JSON.stringify(value);
    const before = await this.partsOf(key);
    if (json.length <= this.chunkSize) {
      await this.storage.setItem(key, json);
    } else {
      const n = Math.ceil(json.length / this.chunkSize);
      for (let i = 0; i < n; i++)
        await this.storage.setItem(`${key}#${i + 1}`, json.slice(i * this.chunkSize, (i + 1) * this.chunkSize));
      await this.storage.setItem(key, `${CHUNKED}${n}`);
      if (before > n) await this.removeParts(key, n + 1, before);
      return;
    }
    if (before > 0) await this.removeParts(key, 1, before);
  }

  async delete(key: string): Promise<void> {
    const before = await this.partsOf(key);
    await this.storage.removeItem(key);
    if (before > 0) await this.removeParts(key, 1, before);
  }

  /** How many parts the value under `key` is split into now (0: one row, or none). */
  private async partsOf(key: string): Promise<number> {
    const head = await this.storage.getItem(key);
    return head?.startsWith(CHUNKED) ? Number(head.slice(CHUNKED.length)) : 0;
  }

  private async removeParts(key: string, from: number, to: number): Promise<void> {
    const keys = Array.from({ length: to - from + 1 }, (_, i) => `${key}#${from + i}`);
    if (this.storage.multiRemove) await this.storage.multiRemove(keys);
    else for (const k of keys) await this.storage.removeItem(k);
  }
}

/**
 * The part of an MMKV instance's API the adapter uses (`react-native-mmkv`: `new MMKV()` in v3,
 * `createMMKV()` in v4, whose `remove` replaced `delete`).
 */
export interface MMKVLike {
  getString(key: string): string | undefined;
  set(key: string, value: string): void;
  delete?(key: string): void;
  remove?(key: string): unknown;
}

/** MMKV as the client's offline store: synchronous and fast, with no per-row limit to work around. */
export class MMKVStorageAdapter implements StorageAdapter {
  constructor(private readonly mmkv: MMKVLike) {
    if (typeof mmkv.delete !== 'function' && typeof mmkv.remove !== 'function')
      throw new Error('MMKVStorageAdapter needs an MMKV instance (with delete or remove)');
  }

  async get<T>(key: string): Promise<T | undefined> {
    const v = this.mmkv.getString(key);
    return v === undefined ? undefined : (JSON.parse(v) as T);
  }

  async set<T>(key: string, value: T): Promise<void> {
    this.mmkv.set(key, JSON.stringify(value));
  }

  async delete(key: string): Promise<void> {
    if (typeof this.mmkv.remove === 'function') this.mmkv.remove(key);
    else this.mmkv.delete?.(key);
  }
}
