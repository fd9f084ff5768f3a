/**
 * A line-based three-way merge (diff3): `ours` and `theirs` both started from `base`. Runs of
 * lines that only one side changed take that side; runs both sides changed the same way take
 * it once; runs both changed differently are a conflict, and then there is no merged text:
 * the caller asks a person (notes answer CONFLICT). As in diff3, edits to adjacent lines with
 * no unchanged line between them count as touching the same place.
 *
 * The line diff is a longest common subsequence after trimming the common head and tail, so
 * the usual edit (one place in a long note) costs little; the table is bounded by MAX_CELLS
 * and past it the whole middle counts as changed (a conflict unless one side kept it).
 */

/** The merged text, or null when the two sides changed the same lines differently. */
export type MergeResult = { ok: true; text: string } | { ok: false };

const MAX_CELLS = 4_000_000;

/** Pairs [i, j] with a[i] === b[j], increasing in both, as many as an LCS has. */
export function matchLines(a: readonly string[], b: readonly string[]): Array<[number, number]> {
  let head = 0;
  while (head < a.length && head < b.length && a[head] === b[head]) head++;
  let tail = 0;
  while (tail < a.length - head && tail < b.length - head && a[a.length - 1 - tail] === b[b.length - 1 - tail]) tail++;
  const pairs: Array<[number, number]> = [];
  for (let k = 0; k < head; k++) pairs.push([k, k]);
  const n = a.length - head - tail;
  const m = b.length - head - tail;
  if (n > 0 && m > 0 && n * m <= MAX_CELLS) {
    // lcs[i][j]: LCS length of a[head+i..] and b[head+j..], one flat array of (n+1)(m+1).
    const w = m + 1;
    const lcs = new Uint32Array((n + 1) * w);
    for (let i = n - 1; i >= 0; i--)
      for (let j = m - 1; j >= 0; j--)
        lcs[i * w + j] =
          a[head + i] === b[head + j]
            ? (lcs[(i + 1) * w + j + 1] as number) + 1
            : Math.max(lcs[(i + 1) * w + j] as number, lcs[i * w + j + 1] as number);
    let i = 0;
    let j = 0;
    while (i < n && j < m) {
      if (a[head + i] === b[head + j]) {
        pairs.push([head + i, head + j]);
        i++;
        j++;
      } else if ((lcs[(i + 1) * w + j] as number) >= (lcs[i * w + j + 1] as number)) i++;
      else j++;
    }
  }
  for (let k = tail; k > 0; k--) pairs.push([a.length - k, b.length - k]);
  return pairs;
}

const same = (x: readonly string[], y: readonly string[]) => x.length === y.length && x.every((l, i) => l === y[i]);

/** Merge `ours` and `theirs`, two edits of `base`, line by line. */
export function merge3(base: string, ours: string, theirs: string): MergeResult {
  if (ours === theirs || theirs === base) return { ok: true, text: ours };
  if (ours === base) return { ok: true, text: theirs };
  const o = base.split('\n');
  const a = ours.split('\n');
  const b = theirs.split('\n');
  const inA = new Map(matchLines(o, a));
  const inB = new Map(matchLines(o, b));
  const out: string[] = [];
  let i = 0;
  let ia = 0;
  let ib = 0;
  for (;;) {
    // The next base line both sides kept: everything before it is one chunk to settle.
    let k = i;
    while (k < o.length && !(inA.has(k) && inB.has(k))) k++;
    const ka = k < o.length ? (inA.get(k) as number) : a.length;
    const kb = k < o.length ? (inB.get(k) as number) : b.length;
    const chunkO = o.slice(i, k);
    const chunkA = a.slice(ia, ka);
    const chunkB = b.slice(ib, kb);
    if (same(chunkA, chunkO)) out.push(...chunkB);
    else if (same(chunkB, chunkO) || same(chunkA, chunkB)) out.push(...chunkA);
    else return { ok: false };
    if (k >= o.length) break;
    out.push(o[k] as string);
    i = k + 1;
    ia = ka + 1;
    ib = kb + 1;
  }
  return { ok: true, text: out.join('\n') };
}
