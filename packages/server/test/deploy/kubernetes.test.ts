/**
 * The Kubernetes manifests (deploy/kubernetes/): every document, as kustomization.yaml lists it,
 * validates against the Kubernetes API's own schemas (the `kubernetes-models` package: its
 * JSON Schemas are generated from Kubernetes' OpenAPI definitions), and the parts fit together —
 * selectors, ports, probes on the routes a drain uses, a grace period longer than the drain, a
 * non-root read-only container with somewhere to write, settings Parley reads.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Deployment } from 'kubernetes-models/apps/v1';
import { Ingress } from 'kubernetes-models/networking.k8s.io/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { ConfigMap, Secret, Service } from 'kubernetes-models/v1';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');
const DIR = path.join(ROOT, 'deploy/kubernetes');

// Manifests are arbitrary YAML until validated.
type Doc = any;

/** Each kind the manifests use, with the validator of its API version. */
const MODELS: Record<string, new (data: Doc) => { validate(): void }> = {
  'v1/ConfigMap': ConfigMap,
  'v1/Secret': Secret,
  'v1/Service': Service,
  'apps/v1/Deployment': Deployment,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'networking.k8s.io/v1/Ingress': Ingress,
};

function load(file: string): Doc[] {
  const docs = parseAllDocuments(readFileSync(path.join(DIR, file), 'utf8'));
  for (const d of docs) if (d.errors.length) throw new Error(`${file}: ${d.errors.map((e) => e.message).join('; ')}`);
  return docs.map((d) => d.toJS()).filter((d) => d !== null);
}

/** Throws, naming the document, when Kubernetes' schema refuses it. */
function validate(doc: Doc, where: string): void {
  const Model = MODELS[`${doc?.apiVersion}/${doc?.kind}`];
  if (!Model) throw new Error(`${where}: ${doc?.apiVersion}/${doc?.kind} is not a kind this test knows`);
  try {
    new Model(doc).validate();
  } catch (e) {
    throw new Error(`${where} (${doc.kind} ${doc.metadata?.name}): ${(e as Error).message}`);
  }
}

const kustomization = load('kustomization.yaml')[0] as { resources: string[] };
/** What `kubectl apply -k deploy/kubernetes` applies, and the Secret made from the example. */
const rendered = kustomization.resources.flatMap((f) => load(f).map((doc) => ({ file: f, doc })));
const secretExample = load('secret.example.yaml');
const all = [...rendered.map((r) => r.doc), ...secretExample];
const one = (kind: string, name = 'parley') => {
  const found = all.filter((d) => d.kind === kind && d.metadata?.name === name);
  expect(found, `${kind} ${name}`).toHaveLength(1);
  return found[0];
};

describe('Kubernetes manifests', () => {
  it('list every manifest in kustomization.yaml (the Secret aside, which you make yourself)', () => {
    const files = readdirSync(DIR).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml');
    expect([...kustomization.resources, 'secret.example.yaml'].sort()).toEqual(files.sort());
  });

  it("validate against Kubernetes' schemas", () => {
    expect(rendered.length).toBeGreaterThanOrEqual(6);
    for (const { file, doc } of rendered) validate(doc, file);
    for (const doc of secretExample) validate(doc, 'secret.example.yaml');
  });

  it('are refused by the same check when broken', () => {
    const deployment = structuredClone(one('Deployment'));
    deployment.spec.replicas = 'two';
    expect(() => validate(deployment, 'broken')).toThrow(/replicas/);
    const pdb = structuredClone(one('PodDisruptionBudget'));
    pdb.spec.selector = { matchLabels: 'app=parley' };
    expect(() => validate(pdb, 'broken')).toThrow(/matchLabels/);
    const service = structuredClone(one('Service'));
    delete service.spec.ports[0].port;
    expect(() => validate(service, 'broken')).toThrow(/port/);
  });

  it('fit together: labels, ports, probes, the drain, the settings', () => {
    const deployment = one('Deployment');
    const pod = deployment.spec.template;
    const labels = pod.metadata.labels as Record<string, string>;
    const selects = (sel: Record<string, string>) => Object.entries(sel).every(([k, v]) => labels[k] === v);
    expect(selects(deployment.spec.selector.matchLabels)).toBe(true);
    expect(selects(one('Service').spec.selector)).toBe(true);
    const pdb = one('PodDisruptionBudget');
    expect(selects(pdb.spec.selector.matchLabels)).toBe(true);
    // Two nodes, and a disruption budget that keeps one of them.
    expect(deployment.spec.replicas).toBeGreaterThanOrEqual(2);
    expect(pdb.spec.minAvailable).toBeLessThan(deployment.spec.replicas);
    expect(deployment.spec.strategy.rollingUpdate.maxUnavailable).toBe(0);

    const [container] = pod.spec.containers;
    const config = one('ConfigMap').data as Record<string, string>;
    const port = container.ports.find((p: Doc) => p.name === 'http');
    expect(String(port.containerPort)).toBe(config.PORT);
    expect(config.HOST).toBe('0.0.0.0');
    // Readiness is what a drain fails; liveness must not (a database outage restarts nothing).
    expect(container.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'http' });
    expect(container.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'http' });
    expect(container.startupProbe.httpGet.path).toBe('/healthz');
    // The pod is given the drain delay and the 15 s a drain may take, before it is killed.
    expect(pod.spec.terminationGracePeriodSeconds * 1000).toBeGreaterThan(
      Number(config.PARLEY_DRAIN_DELAY_MS) + 15_000,
    );
    // The readiness probe notices the drain well within its delay.
    const probe = container.readinessProbe;
    expect(probe.periodSeconds * probe.failureThreshold * 1000).toBeLessThan(Number(config.PARLEY_DRAIN_DELAY_MS));
    // Not root; a read-only root, with the data folder and /tmp writable.
    expect(pod.spec.securityContext.runAsNonRoot).toBe(true);
    expect(pod.spec.securityContext.runAsUser).toBeGreaterThan(0);
    expect(container.securityContext.readOnlyRootFilesystem).toBe(true);
    const mounts = (container.volumeMounts as Doc[]).map((m) => m.mountPath);
    expect(mounts).toEqual(expect.arrayContaining([config.PARLEY_DATA_DIR, '/tmp']));
    // Every setting is one Parley reads.
    const secret = secretExample[0].stringData as Record<string, string>;
    const sources = ['packages/server/src/platform/config.ts', 'packages/cli/src/settings.ts']
      .map((f) => readFileSync(path.join(ROOT, f), 'utf8'))
      .join('\n');
    for (const name of [...Object.keys(config), ...Object.keys(secret)])
      expect(sources, `${name} is read by Parley`).toMatch(new RegExp(`\\b${name}\\b`));
    expect(container.envFrom).toEqual([{ configMapRef: { name: 'parley' } }, { secretRef: { name: 'parley' } }]);

    // The ingresses reach the Service's port.
    for (const ingress of all.filter((d) => d.kind === 'Ingress'))
      for (const rule of ingress.spec.rules)
        for (const p of rule.http.paths) expect(p.backend.service).toEqual({ name: 'parley', port: { name: 'http' } });
  });
});
