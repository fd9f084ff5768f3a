import { describe, expect, it } from 'vitest';
import { abTable, cellNumber, compare, interleave, medianCell, ratioCell, readReport } from './ab.js';

describe('bench:ab', () => {
  it('interleaves the runs A, B, A, B, … with run i of each side next to each other', () => {
    expect(interleave(3)).toEqual([
      { side: 'A', run: 0 },
      { side: 'B', run: 0 },
      { side: 'A', run: 1 },
      { side: 'B', run: 1 },
      { side: 'A', run: 2 },
      { side: 'B', run: 2 },
    ]);
  });

  it('reads the figures of report cells, the median of a spread, and nothing else', () => {
    expect(cellNumber('1,234')).toBe(1234);
    expect(cellNumber('72.0 (10.2–95.7)')).toBe(72);
    expect(cellNumber('0.98×')).toBe(0.98);
    expect(cellNumber('100.00 %')).toBe(100);
    expect(cellNumber('**12**')).toBe(12);
    expect(cellNumber('–')).toBeNaN();
    expect(cellNumber('PostgreSQL 15.20')).toBeNaN();
    expect(cellNumber('64 × 64')).toBeNaN();
  });

  it('names each figure by its section, its row and its column, and skips targets and per-run tables', () => {
    const md = [
      '# Parley benchmark',
      '## Targets',
      '| target | measured | goal | met |',
      '|---|---:|---:|---|',
      '| persist | 9,000 | 10,000 | **no** |',
      '## 4. Persist throughput',
      '',
      '| database | concurrency × channels | send: msg/s | send p99 ms |',
      '|---|---|---:|---:|',
      '| PostgreSQL 15.20 | 64 × 1 | 3,100 | 25.5 |',
      '| PostgreSQL 15.20 | 64 × 64 | 5,200 | – |',
      '',
      '| run | server | msg/s |',
      '|---|---|---:|',
      '| 1 | Parley | 3,000 |',
    ].join('\n');
    expect([...readReport(md)]).toEqual([
      ['4. Persist throughput · PostgreSQL 15.20 64 × 1 · send: msg/s', 3100],
      ['4. Persist throughput · PostgreSQL 15.20 64 × 1 · send p99 ms', 25.5],
      ['4. Persist throughput · PostgreSQL 15.20 64 × 64 · send: msg/s', 5200],
    ]);
  });

  it('pairs run i of B with run i of A for B/A, and leaves out pairs with a side missing', () => {
    const m = (x?: number) => new Map(x === undefined ? [] : [['t', x]]);
    const [row] = compare([m(100), m(200), m(100)], [m(110), m(), m(300)]);
    expect(row?.a).toEqual([100, 200, 100]);
    expect(row?.b).toEqual([110, 300]);
    expect(row?.ratios.map((r) => r.toFixed(2))).toEqual(['1.10', '3.00']);
    expect(ratioCell(row?.ratios ?? [])).toBe('2.05× (1.10×–3.00×) **unreliable**');
    expect(medianCell([100, 200, 100])).toBe('100 (100–200)');
    expect(medianCell([])).toBe('–');
  });

  it('prints one row per measure, in the order the measures first appear on either side', () => {
    const a = [new Map([['x', 2]]), new Map([['x', 4]])];
    const b = [
      new Map([
        ['y', 1],
        ['x', 1],
      ]),
      new Map([['x', 2]]),
    ];
    expect(abTable(compare(a, b), 'main', 'HEAD')).toBe(
      [
        '| measure | A main | B HEAD | B/A |',
        '|---|---:|---:|---:|',
        '| x | 3.00 (2.00–4.00) | 1.50 (1.00–2.00) | 0.50× |',
        '| y | – | 1.00 | – |',
      ].join('\n'),
    );
  });
});
