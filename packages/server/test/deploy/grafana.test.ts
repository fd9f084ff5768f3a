/**
 * The Grafana dashboard (deploy/grafana/parley.json): every PromQL query in it, and every
 * metric its variables read, parses with Prometheus' own PromQL grammar (@prometheus-io/lezer-promql,
 * what Prometheus' web UI uses) and names only metrics that a server's GET /metrics exports — so a
 * metric renamed or removed in the server turns this red instead of leaving an empty panel.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SyntaxNode } from '@lezer/common';
import { parser } from '@prometheus-io/lezer-promql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from '../harness.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');
const DASHBOARD = path.join(ROOT, 'deploy/grafana/parley.json');

interface Target {
  expr: string;
  refId: string;
  datasource?: { type: string; uid: string };
}
interface Panel {
  id: number;
  type: string;
  title: string;
  gridPos: { h: number; w: number; x: number; y: number };
  datasource?: { type: string; uid: string };
  targets?: Target[];
  panels?: Panel[];
}
interface Dashboard {
  uid: string;
  title: string;
  panels: Panel[];
  templating: { list: { name: string; type: string; query: string | { query: string }; definition?: string }[] };
}

const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as Dashboard;
const panels = dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
const queries = panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr })));

/**
 * Grafana's own variables as Prometheus sees them once Grafana has put their values in
 * (`$__rate_interval` is a duration; `$node` stands inside a regex matcher's quotes).
 */
function interpolate(expr: string): string {
  return expr.replaceAll('$__rate_interval', '5m').replaceAll('$__interval', '1m').replaceAll('$node', '.+');
}

/** The metric names a PromQL expression selects, or the syntax errors Prometheus' grammar found in it. */
export function selectedMetrics(expr: string): { metrics: string[]; errors: string[] } {
  const text = interpolate(expr);
  const tree = parser.parse(text);
  const metrics: string[] = [];
  const errors: string[] = [];
  tree.iterate({
    enter(ref) {
      if (ref.type.isError) errors.push(`at ${ref.from}: ${JSON.stringify(text.slice(ref.from, ref.from + 20))}`);
      if (ref.name === 'VectorSelector') {
        const node: SyntaxNode = ref.node;
        const name = node.getChild('Identifier');
        if (name) metrics.push(text.slice(name.from, name.to));
        else {
          // `{__name__="…"}` or `{"…"}`: the name as a matcher.
          for (const m of node.getChild('LabelMatchers')?.getChildren('UnquotedLabelMatcher') ?? []) {
            const label = m.getChild('LabelName');
            const value = m.getChild('StringLiteral');
            if (label && value && text.slice(label.from, label.to) === '__name__')
              metrics.push(JSON.parse(text.slice(value.from, value.to)));
          }
          const quoted = node.getChild('LabelMatchers')?.getChild('QuotedLabelName')?.getChild('StringLiteral');
          if (quoted) metrics.push(JSON.parse(text.slice(quoted.from, quoted.to)));
        }
      }
    },
  });
  return { metrics, errors };
}

/**
 * Every series name a scrape can hold, from the exposition's `# TYPE` lines (a metric with labels
 * but no samples yet still has one): a histogram's `_bucket`, `_sum` and `_count`, a summary's
 * `_sum` and `_count` beside its own name.
 */
function exportedNames(exposition: string): Set<string> {
  const names = new Set<string>();
  for (const m of exposition.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    const [, name, type] = m as unknown as [string, string, string];
    names.add(name);
    if (type === 'histogram') for (const s of ['_bucket', '_sum', '_count']) names.add(name + s);
    if (type === 'summary') for (const s of ['_sum', '_count']) names.add(name + s);
  }
  return names;
}

describe('the Grafana dashboard (deploy/grafana/parley.json)', () => {
  let h: Harness;
  let exported: Set<string>;

  beforeAll(async () => {
    h = await startHarness();
    const res = await h.app.inject({ method: 'GET', url: '/metrics' });
    expect(res.statusCode).toBe(200);
    exported = exportedNames(res.body);
  }, 60_000);
  afterAll(() => h?.close());

  it('has panels with queries, each on the dashboard’s Prometheus data source variable', () => {
    expect(dashboard.uid).toBe('parley');
    expect(queries.length).toBeGreaterThan(20);
    expect(new Set(panels.map((p) => p.id)).size).toBe(panels.length);
    const source = dashboard.templating.list.find((v) => v.type === 'datasource');
    expect(source?.query).toBe('prometheus');
    for (const p of panels.filter((p) => p.type !== 'row')) {
      expect(p.datasource, p.title).toEqual({ type: 'prometheus', uid: `\${${source?.name}}` });
      expect(p.targets?.length, p.title).toBeGreaterThan(0);
      expect(p.gridPos.x + p.gridPos.w, p.title).toBeLessThanOrEqual(24);
    }
  });

  it('every query parses as PromQL and selects only metrics /metrics exports', () => {
    const problems: string[] = [];
    let selected = 0;
    for (const q of queries) {
      const { metrics, errors } = selectedMetrics(q.expr);
      if (errors.length) problems.push(`${q.panel}: ${q.expr} does not parse (${errors.join(', ')})`);
      if (!metrics.length) problems.push(`${q.panel}: ${q.expr} selects no metric`);
      for (const m of metrics) if (!exported.has(m)) problems.push(`${q.panel}: ${m} is not exported`);
      selected += metrics.length;
    }
    expect(problems).toEqual([]);
    expect(selected).toBeGreaterThanOrEqual(queries.length);
  });

  it("its variables read metrics /metrics exports, by labels they have (the server's `node`)", () => {
    const vars = dashboard.templating.list.filter((v) => v.type === 'query');
    expect(vars.length).toBeGreaterThan(0);
    for (const v of vars) {
      const query = typeof v.query === 'string' ? v.query : v.query.query;
      const m = /^label_values\((\w+),\s*(\w+)\)$/.exec(query);
      expect(m, query).not.toBeNull();
      expect(exported.has(m?.[1] as string), query).toBe(true);
      expect(m?.[2]).toBe('node');
    }
  });

  it('the check fails on what it must catch: an unknown metric, a syntax error', () => {
    const unknown = selectedMetrics('sum(rate(parley_no_such_metric_total{node=~"$node"}[$__rate_interval]))');
    expect(unknown.errors).toEqual([]);
    expect(unknown.metrics.filter((m) => !exported.has(m))).toEqual(['parley_no_such_metric_total']);
    expect(selectedMetrics('sum(rate(parley_messages_sent_total[5m])').errors.length).toBeGreaterThan(0);
    expect(selectedMetrics('{__name__="parley_ws_open_sockets"}').metrics).toEqual(['parley_ws_open_sockets']);
    expect(selectedMetrics('{"parley_ws_open_sockets", node="a"}').metrics).toEqual(['parley_ws_open_sockets']);
    // A histogram's series are there by their suffixes, not by its bare name.
    expect(exported.has('parley_http_request_duration_seconds_bucket')).toBe(true);
  });
});
