/**
 * Offline storage. The client keeps the channel list, recent messages and the queue of
 * unsent messages under a few keys; an adapter only has to get, set and delete values.
 * Values are plain JSON-compatible objects.
 */

/** Where the client persists its offline state. */
export interface StorageAdapter {
  get<T>(key: string): Promise<T | undefined>;
  set<T>(key: string, value: T): Promise<void>;
  delete(key: string): Promise<void>;
}

/** In-memory storage (the default in Node): survives reconnects, not restarts. */
export class MemoryStorage implements StorageAdapter {
  private readonly map = new Map<string, string>();
  async get<T>(key: string): Promise<T | undefined> {
    const v = this.map.get(key);
    return v === undefined ? undefined : (JSON.parse(v) as T);
  }
  async set<T>(key: string, value: T): Promise<void> {
    this.map.set(key, JSON.stringify(value));
  }
  async delete(key: string): Promise<void> {
    this.map.delete(key);
  }
}

/**
 * Minimal IndexedDB typing, so this file needs no DOM library. Handlers take a `never` event
 * so that the DOM's own `IDBFactory` (handlers `(this, ev: Event) => any`) — `indexedDB`, or
 * fake-indexeddb's — type-checks as an `IdbFactoryLike`; with `() => void` it did not.
 */
type IdbHandler = ((ev: never) => void) | null;
interface IdbRequest<T> {
  result: T;
  error: unknown;
  onsuccess: IdbHandler;
  onerror: IdbHandler;
}
interface IdbOpenRequest extends IdbRequest<IdbDatabase> {
  onupgradeneeded: IdbHandler;
}
interface IdbDatabase {
  objectStoreNames: { contains(name: string): boolean };
  createObjectStore(name: string): unknown;
  transaction(
    store: string,
    mode: 'readonly' | 'readwrite',
  ): {
    objectStore(name: string): {
      get(key: string): IdbRequest<unknown>;
      put(value: unknown, key: string): IdbRequest<unknown>;
      delete(key: string): IdbRequest<unknown>;
    };
  };
  close(): void;
}
export interface IdbFactoryLike {
  open(name: string, version?: number): IdbOpenRequest;
}

const STORE = 'kv';

function done<T>(req: IdbRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

/** IndexedDB storage for browsers: survives reloads and restarts. */
export class IndexedDBStorage implements StorageAdapter {
  private db: Promise<IdbDatabase> | null = null;
  constructor(
    private readonly name = 'parley',
    private readonly factory: IdbFactoryLike = (globalThis as unknown as { indexedDB: IdbFactoryLike }).indexedDB,
  ) {
    if (!this.factory) throw new Error('IndexedDB is not available here; pass an IDBFactory or use MemoryStorage');
  }

  private open(): Promise<IdbDatabase> {
    this.db ??= new Promise((resolve, reject) => {
      const req = this.factory.open(this.name, 1);
      req.onupgradeneeded = () => {
        if (!req.result.objectStoreNames.contains(STORE)) req.result.createObjectStore(STORE);
      };
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
    });
    return this.db;
  }

  async get<T>(key: string): Promise<T | undefined> {
    const db = await this.open();
    return (await done(db.transaction(STORE, 'readonly').objectStore(STORE).get(key))) as T | undefined;
  }
  async set<T>(key: string, value: T): Promise<void> {
    const db = await this.open();
    await done(db.transaction(STORE, 'readwrite').objectStore(STORE).put(value, key));
  }
  async delete(key: string): Promise<void> {
    const db = await this.open();
    await done(db.transaction(STORE, 'readwrite').objectStore(STORE).delete(key));
  }
  /** Close the database (tests; a page simply unloads). */
  async close(): Promise<void> {
    if (this.db) (await this.db).close();
    this.db = null;
  }
}
