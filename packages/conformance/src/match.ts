/**
 * The conformance kit's values and patterns (conformance/README.md, "Values and patterns"):
 * `${name}` fills a saved value in; a pattern matches a frame or body key by key, with the `$`
 * matchers.
 */
// biome-ignore lint/suspicious/noExplicitAny: scenarios are JSON of any shape
export type Json = any;

/** `v` with every `${name}` replaced by its saved value (a whole-string one keeps its type). */
export function fill(v: Json, saved: Map<string, Json>): Json {
  if (typeof v === 'string') {
    const whole = /^\$\{(\w+)\}$/.exec(v);
    if (whole) return saved.get(whole[1] as string);
    return v.replace(/\$\{(\w+)\}/g, (_, k) => String(saved.get(k)));
  }
  if (Array.isArray(v)) return v.map((x) => fill(x, saved));
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, fill(x, saved)]));
  return v;
}

/** Whether `actual` matches `pattern`; `$save:` values go into `into` (kept only on a whole match). */
export function matches(
  pattern: Json,
  actual: Json,
  saved: Map<string, Json>,
  into = new Map<string, Json>(),
): boolean {
  if (typeof pattern === 'string' && pattern.startsWith('$')) {
    if (pattern === '$any') return actual !== undefined;
    if (pattern === '$string') return typeof actual === 'string';
    if (pattern === '$number') return typeof actual === 'number';
    if (pattern.startsWith('$save:')) {
      into.set(pattern.slice(6), actual);
      return actual !== undefined;
    }
    if (pattern.startsWith('$one_of:')) return pattern.slice(8).split(',').includes(actual);
    if (pattern.startsWith('${')) return matches(fill(pattern, saved), actual, saved, into);
  }
  if (Array.isArray(pattern))
    return (
      Array.isArray(actual) &&
      actual.length === pattern.length &&
      pattern.every((p, i) => matches(p, actual[i], saved, into))
    );
  if (pattern && typeof pattern === 'object')
    return (
      !!actual &&
      typeof actual === 'object' &&
      Object.entries(pattern).every(([k, p]) => matches(p, actual[k], saved, into))
    );
  return pattern === actual;
}

/** `matches`, saving its `$save:` values when it does. */
export function matchSave(pattern: Json, actual: Json, saved: Map<string, Json>): boolean {
  const into = new Map<string, Json>();
  if (!matches(pattern, actual, saved, into)) return false;
  for (const [k, v] of into) saved.set(k, v);
  return true;
}

export const consecutive = (seqs: number[]) => seqs.every((s, i) => i === 0 || s === (seqs[i - 1] as number) + 1);

export const pick = (o: Json, dotted: string): Json => dotted.split('.').reduce((x, k) => x?.[k], o);
