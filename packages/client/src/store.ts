/**
 * A tiny reactive store: immutable snapshots, and subscribers called once per batch of
 * changes (all updates made in one tick coalesce into one notification). No framework
 * needed; React binds to it with `useSyncExternalStore`.
 */

/** A readable, subscribable value. */
export interface Readable<T> {
  /** The current snapshot. Never mutate it. */
  get(): T;
  /** Be called after each batch of changes; returns the unsubscribe function. */
  subscribe(listener: (value: T) => void): () => void;
}

/** A store of immutable snapshots. */
export class Store<T> implements Readable<T> {
  private value: T;
  private readonly listeners = new Set<(value: T) => void>();
  private scheduled = false;

  constructor(initial: T) {
    this.value = initial;
  }

  get(): T {
    return this.value;
  }

  /** Replace the snapshot with `fn(current)`; listeners run once at the end of the tick. */
  update(fn: (current: T) => T): void {
    const next = fn(this.value);
    if (next === this.value) return;
    this.value = next;
    if (this.scheduled) return;
    this.scheduled = true;
    queueMicrotask(() => {
      this.scheduled = false;
      const v = this.value;
      for (const l of [...this.listeners]) l(v);
    });
  }

  subscribe(listener: (value: T) => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }
}
