/**
 * `parley` — start a server, migrate, create apps, mint tokens. `parley --help` lists the
 * commands (`args.ts` holds them and their help).
 *
 * Startup cost is part of the interface: `app` and `token` talking to a running server load
 * only node built-ins and these few modules; @parley/server (drizzle, PGlite, Fastify …) is
 * imported only on the paths that open the database or run the server.
 *
 * Failures print one line, `parley: <message>`, and exit 2 (command line), 3 (a database
 * migrated by a newer Parley) or 1 (anything else); see errors.ts.
 */
import { readFileSync } from 'node:fs';
import { parseCommandLine, type Values } from './args.js';
import { CliError, describeError } from './errors.js';
import { describeOwner } from './owner-lock.js';
import { ApiError, takeFolder, withData } from './reach.js';
import { settings } from './settings.js';

const out = (s: string) => process.stdout.write(`${s}\n`);
const err = (s: string) => process.stderr.write(`${s}\n`);

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

export async function main(argv: string[]): Promise<number> {
  let command = '';
  try {
    const parsed = parseCommandLine(argv);
    if (parsed.kind === 'help') {
      process.stdout.write(parsed.text);
      return 0;
    }
    if (parsed.kind === 'version') {
      out(version());
      return 0;
    }
    command = parsed.command;
    return await run(parsed.command, parsed.values);
  } catch (e) {
    const { message, code } = describeError(e);
    err(`parley: ${message}`);
    if (process.env.PARLEY_DEBUG && e instanceof Error && e.stack) err(e.stack);
    // A failed start may hold a database or a broker open; nothing else is left to do.
    if (command === 'start') process.exit(code);
    return code;
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

interface Credentials {
  id: string;
  api_key: string;
  api_secret: string;
}

async function run(command: string, values: Values): Promise<number> {
  switch (command) {
    case 'conformance': {
      const { conformance } = await import('./conformance/command.js');
      return conformance(values, settings(values));
    }
    case 'start': {
      const { start } = await import('./start.js');
      return await start(values);
    }
    case 'migrate': {
      const s = settings(values);
      const { migrate } = await import('./direct.js');
      if (s.databaseUrl) {
        out(await migrate(values));
        return 0;
      }
      const lock = await takeFolder(
        s,
        { kind: 'command', command: 'migrate' },
        (owner) =>
          `${s.dataDir} is in use by ${describeOwner(owner)}, which applied pending migrations when it ` +
          'started; stop it to run parley migrate',
      );
      try {
        out(await migrate(values));
      } finally {
        lock.release();
      }
      return 0;
    }
    case 'app create': {
      const name = values.name as string;
      const created = await withData<Credentials>(settings(values), 'app create', {
        api: (api) => api.call('POST', '/v1/admin/apps', { name }),
        direct: async () => (await import('./direct.js')).withApps(values, (apps) => apps.create(name)),
      });
      const body = { id: created.id, api_key: created.api_key, api_secret: created.api_secret };
      out(
        values.json
          ? JSON.stringify(body)
          : `app ${body.id}\n  api_key:    ${body.api_key}\n  api_secret: ${body.api_secret}`,
      );
      return 0;
    }
    case 'app list': {
      type Listed = { id: string; name: string; api_key: string; created_at: string };
      const list = await withData<Listed[]>(settings(values), 'app list', {
        api: async (api) => (await api.call<{ apps: Listed[] }>('GET', '/v1/admin/apps')).apps,
        direct: async () => (await import('./direct.js')).withApps(values, (apps) => apps.list()),
      });
      if (values.json) out(JSON.stringify(list));
      else if (list.length === 0) err('no apps yet: parley app create --name NAME makes one');
      else out(list.map((a) => `${a.id}  ${a.api_key}  ${a.name}`).join('\n'));
      return 0;
    }
    case 'token': {
      const appId = values.app as string;
      const userId = values.server ? null : (values.user as string);
      const expires = typeof values.expires === 'string' ? values.expires : undefined;
      const noApp = () => new CliError(`no app with id ${appId} (parley app list shows them)`);
      // App ids are UUIDs: anything else names no app, and must not reach the database.
      if (!UUID.test(appId)) throw noApp();
      const token = await withData<string>(settings(values), 'token', {
        api: async (api) => {
          try {
            const r = await api.call<{ token: string }>('POST', `/v1/admin/apps/${appId}/tokens`, {
              user_id: userId,
              ...(expires ? { expires_in: expires } : {}),
            });
            return r.token;
          } catch (e) {
            if (e instanceof ApiError && e.status === 404) throw noApp();
            throw e;
          }
        },
        direct: async () => {
          const { withApps } = await import('./direct.js');
          const secret = await withApps(values, (apps) => apps.secretOf(appId));
          if (!secret) throw noApp();
          const { signToken } = await import('@parley/server');
          return signToken(secret, userId, expires ? { expiresIn: expires } : {});
        },
      });
      out(token);
      return 0;
    }
    case 'demo': {
      const { demo } = await import('./demo.js');
      const { result, text } = await demo(values);
      out(values.json ? JSON.stringify(result) : text);
      return 0;
    }
    case 'backup':
    case 'restore': {
      const mod = await import('./backup.js');
      const { result, text } = await (command === 'backup' ? mod.backup(values) : mod.restore(values));
      out(values.json ? JSON.stringify(result) : text);
      return 0;
    }
    case 'import slack': {
      const { importSlack } = await import('./import-slack.js');
      const { code, out: text } = await importSlack(values);
      out(text);
      return code;
    }
    case 'import parley': {
      const { importParley } = await import('./import-parley.js');
      const { code, out: text } = await importParley(values);
      out(text);
      return code;
    }
    case 'export': {
      const { exportWorkspaceCommand } = await import('./export-workspace.js');
      const { result, text } = await exportWorkspaceCommand(values);
      out(values.json ? JSON.stringify(result) : text);
      return 0;
    }
    case 'import mattermost': {
      const { importMattermost } = await import('./import-mattermost.js');
      const { code, out: text } = await importMattermost(values);
      out(text);
      return code;
    }
  }
  if (command.startsWith('webhooks ')) return webhooks(command, values);
  throw new CliError(`unhandled command ${command}`);
}

/** `parley webhooks …`: the app's webhook API on a running server, as the app's backend. */
async function webhooks(command: string, values: Values): Promise<number> {
  const appId = values.app as string;
  const noApp = () => new CliError(`no app with id ${appId} (parley app list shows them)`);
  if (!UUID.test(appId)) throw noApp();
  const json = !!values.json;
  const line = await withData<string>(settings(values), command, {
    direct: async () => {
      throw new CliError('webhooks are managed through a running server: start one (parley start), then try again');
    },
    api: async (api) => {
      type Listed = { id: string; api_key: string };
      const app = (await api.call<{ apps: Listed[] }>('GET', '/v1/admin/apps')).apps.find((a) => a.id === appId);
      if (!app) throw noApp();
      const { token } = await api.call<{ token: string }>('POST', `/v1/admin/apps/${appId}/tokens`, {
        user_id: null,
        expires_in: '5m',
      });
      const as = { apiKey: app.api_key, token };
      const id = encodeURIComponent(String(values.id ?? ''));
      switch (command) {
        case 'webhooks list': {
          type W = {
            id: string;
            url: string;
            events: string[];
            active: boolean;
            disabled_reason: string | null;
            pending: number;
            dropped: number;
          };
          const { webhooks: list } = await api.call<{ webhooks: W[] }>('GET', '/v1/webhooks', undefined, as);
          if (json) return JSON.stringify(list);
          if (list.length === 0) return 'no webhooks yet: parley webhooks create --app APP_ID --url URL --events TYPES';
          return list
            .map(
              (w) =>
                `${w.id}  ${w.active ? 'active  ' : 'inactive'}  ${w.url}  ${w.events.join(',')}` +
                `${w.pending ? `  ${w.pending} waiting` : ''}${w.dropped ? `  ${w.dropped} dropped` : ''}` +
                `${w.disabled_reason ? `  (${w.disabled_reason})` : ''}`,
            )
            .join('\n');
        }
        case 'webhooks create': {
          const events = String(values.events)
            .split(',')
            .map((e) => e.trim())
            .filter(Boolean);
          const r = await api.call<{ webhook: { id: string }; secret: string }>(
            'POST',
            '/v1/webhooks',
            { url: values.url, events },
            as,
          );
          return json ? JSON.stringify(r) : `webhook ${r.webhook.id}\n  secret: ${r.secret}`;
        }
        case 'webhooks delete':
          await api.call('DELETE', `/v1/webhooks/${id}`, undefined, as);
          return `deleted ${values.id}`;
        case 'webhooks deliveries': {
          type D = {
            id: string;
            event_type: string;
            cid: string | null;
            status: string;
            attempts: number;
            response_status: number | null;
            latency_ms: number | null;
            error: string | null;
            created_at: string;
          };
          const { deliveries } = await api.call<{ deliveries: D[] }>(
            'GET',
            `/v1/webhooks/${id}/deliveries?limit=100`,
            undefined,
            as,
          );
          if (json) return JSON.stringify(deliveries);
          if (deliveries.length === 0) return 'no deliveries yet';
          return deliveries
            .map(
              (d) =>
                `${d.id}  ${d.created_at}  ${d.event_type.padEnd(16)} ${(d.cid ?? '-').padEnd(20)} ${d.status.padEnd(9)} ` +
                `attempts=${d.attempts} status=${d.response_status ?? '-'} latency=${d.latency_ms ?? '-'}ms${d.error ? `  ${d.error}` : ''}`,
            )
            .join('\n');
        }
        case 'webhooks test': {
          type D = { status: string; response_status: number | null; latency_ms: number | null; error: string | null };
          const { delivery: d } = await api.call<{ delivery: D }>('POST', `/v1/webhooks/${id}/test`, {}, as);
          if (json) return JSON.stringify(d);
          return d.status === 'delivered'
            ? `test event delivered: HTTP ${d.response_status} in ${d.latency_ms} ms`
            : `test event failed: ${d.error ?? 'no answer'}`;
        }
        case 'webhooks pause':
        case 'webhooks resume': {
          const active = command === 'webhooks resume';
          const { webhook: w } = await api.call<{ webhook: { pending: number; dropped: number } }>(
            'PATCH',
            `/v1/webhooks/${id}`,
            { active },
            as,
          );
          return active
            ? `resumed ${values.id}: ${w.pending} waiting deliveries go out now, in order${w.dropped ? ` (${w.dropped} dropped past the retention)` : ''}`
            : `paused ${values.id}: what it would receive is kept for it (7 days) until parley webhooks resume`;
        }
        case 'webhooks rotate-secret': {
          const r = await api.call<{ webhook: { previous_secret_expires_at: string | null }; secret: string }>(
            'POST',
            `/v1/webhooks/${id}/rotate-secret`,
            values.overlap === undefined ? {} : { overlap_seconds: Number(values.overlap) },
            as,
          );
          if (json) return JSON.stringify(r);
          const until = r.webhook.previous_secret_expires_at;
          return `new secret: ${r.secret}\n  ${until ? `the old secret also signs until ${until}` : 'the old secret no longer signs'}`;
        }
        case 'webhooks replay': {
          const since = new Date(String(values.since)).toISOString();
          const until = new Date(values.until === undefined ? Date.now() : String(values.until)).toISOString();
          let queued = 0;
          let after: string | null = null;
          do {
            const r: { queued: number; next: string | null } = await api.call(
              'POST',
              `/v1/webhooks/${id}/replay`,
              { since, until, ...(after ? { after } : {}) },
              as,
            );
            queued += r.queued;
            after = r.next;
          } while (after);
          return `replay queued ${queued} event${queued === 1 ? '' : 's'} (${since} to ${until})`;
        }
        case 'webhooks redeliver': {
          const r = await api.call<{ delivery: { id: string } }>(
            'POST',
            `/v1/webhooks/${id}/deliveries/${encodeURIComponent(String(values.delivery))}/redeliver`,
            undefined,
            as,
          );
          return `redelivery ${r.delivery.id} queued`;
        }
      }
      throw new CliError(`unhandled command ${command}`);
    },
  });
  out(line);
  return 0;
}
