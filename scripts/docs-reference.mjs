// Renders the reference pages of docs/reference/ from the contract, so they are never written
// twice: the REST page from the server's OpenAPI document (what `GET /v1/openapi.json` serves),
// the socket page from the protocol package's frame schemas, and the error page from the error
// catalogue. scripts/gen-reference-docs.mjs writes them; docs-reference.test.mjs (socket,
// errors) and packages/server/test/foundation/reference-docs.test.ts (REST, which needs a
// built server) fail when a page is out of step with its source.
import * as protocol from '../packages/protocol/src/index.ts';

const GENERATED = (source, command = 'npm run docs:reference') =>
  `<!-- Generated from ${source} by scripts/gen-reference-docs.mjs: do not edit; run \`${command}\`. -->\n\n`;

/** A table cell: pipes escaped, newlines folded. */
const cell = (s) =>
  String(s ?? '')
    .replace(/\|/g, '\\|')
    .replace(/\s*\n\s*/g, ' ');

/** A short, readable type of a JSON schema: `string`, `integer`, `"a" \| "b"`, `Message[]`, `{id, text, …}`. */
export function typeOf(schema, depth = 0, link = (name) => name) {
  if (!schema || typeof schema !== 'object') return 'any';
  if (schema.$ref) return link(String(schema.$ref).split('/').pop());
  if ('const' in schema) return JSON.stringify(schema.const);
  if (Array.isArray(schema.enum)) return schema.enum.map((v) => JSON.stringify(v)).join(' | ');
  const alts = schema.anyOf ?? schema.oneOf;
  if (Array.isArray(alts)) {
    const parts = [...new Set(alts.map((a) => typeOf(a, depth, link)))];
    return parts.join(' | ');
  }
  if (Array.isArray(schema.allOf)) return schema.allOf.map((a) => typeOf(a, depth, link)).join(' & ');
  const type = Array.isArray(schema.type) ? schema.type.join(' | ') : schema.type;
  if (type === 'array') {
    const item = typeOf(schema.items, depth + 1, link);
    return item.includes(' ') ? `(${item})[]` : `${item}[]`;
  }
  if (type === 'object' || schema.properties) {
    const keys = Object.keys(schema.properties ?? {});
    if (keys.length === 0) return 'object';
    if (depth > 0) return 'object';
    const shown = keys.slice(0, 6).join(', ');
    return `{${shown}${keys.length > 6 ? ', …' : ''}}`;
  }
  if (type === 'string' && schema.format) return `string (${schema.format})`;
  if (type) return type;
  return 'any';
}

/** A field's limits worth a reader's eye: length, range, items. */
function limits(s) {
  if (!s || typeof s !== 'object') return '';
  const base = s.anyOf?.find((a) => a.type !== 'null') ?? s;
  const out = [];
  if (base.minLength !== undefined || base.maxLength !== undefined)
    out.push(`${base.minLength ?? 0}–${base.maxLength ?? '∞'} chars`);
  if (base.maxItems !== undefined) out.push(`at most ${base.maxItems}`);
  if (base.minimum !== undefined && base.maximum !== undefined && base.maximum < 2 ** 40)
    out.push(`${base.minimum}–${base.maximum}`);
  return out.join(', ');
}

/** Rows `| name | type | required | description |` of an object schema's own properties. */
function fieldRows(schema, skip = [], link = undefined) {
  const props = schema?.properties ?? {};
  const required = new Set(schema?.required ?? []);
  return Object.entries(props)
    .filter(([name]) => !skip.includes(name))
    .map(([name, s]) => {
      const notes = [s.description, limits(s)].filter(Boolean).join('; ');
      return `| \`${name}\` | ${cell(typeOf(s, 0, link))} | ${required.has(name) ? 'yes' : ''} | ${cell(notes)} |`;
    });
}

/** The object schemas of a schema that is one object or a union of objects. */
const objectBranches = (schema) =>
  schema?.properties ? [schema] : (schema?.anyOf ?? schema?.oneOf ?? []).filter((b) => b?.properties);

const slug = (s) =>
  s
    .toLowerCase()
    .replace(/[^a-z0-9 _-]/g, '')
    .trim()
    .replace(/ /g, '-');

const METHODS = ['get', 'post', 'put', 'patch', 'delete'];

function authOf(op, path) {
  if (Array.isArray(op.security) && op.security.length === 0) return 'no credentials';
  if (op.security?.some((s) => 'session' in s)) return 'session cookie (the bundled web app)';
  // The operator's routes take the admin token alone (API.md), whatever the document's default.
  if (path.startsWith('/v1/admin/') || path === '/v1/admin')
    return 'the admin token, `Authorization: Bearer <admin token>`';
  return '`X-Api-Key` and a bearer token';
}

/**
 * The REST reference from the OpenAPI document: `rest.md`, every operation in one table per tag,
 * and `rest/<tag>.md`, each operation's parameters, body fields and answers. Returns the pages by
 * their path under docs/reference/.
 */
export function renderRestReference(doc) {
  const ops = [];
  for (const [path, item] of Object.entries(doc.paths ?? {}))
    for (const method of METHODS) if (item[method]) ops.push({ path, method, op: item[method] });
  const tagOf = (o) => o.op.tags?.[0] ?? 'other';
  const tags = [...new Set(ops.map(tagOf))];
  const opAnchor = (o) => slug(`${o.method} ${o.path}`);
  const pages = {};
  const index = [];
  index.push('# REST reference\n\n');
  index.push(GENERATED('the OpenAPI document the server serves at `GET /v1/openapi.json`'));
  index.push(
    `${doc.info?.title ?? 'API'} ${doc.info?.version ?? ''}: ${ops.length} operations. Every \`/v1\` call needs ` +
      '`X-Api-Key` and `Authorization: Bearer <token>` unless its entry says otherwise ' +
      '([authentication](../protocol/basics.md#authentication)); bodies are JSON, wire fields snake_case; ' +
      'an error answers `{"error":{"code","message","details?"}}` ([error codes](errors.md)). ' +
      'Each operation links to its parameters, body and answers. What the routes mean in practice is in the ' +
      '[protocol guides](../protocol.md); the same document is served at `GET /v1/openapi.json` and browsable at `/docs/api/`.\n\n',
  );
  index.push(`Sections: ${tags.map((t) => `[${t}](#${slug(t)})`).join(' · ')}\n`);
  for (const tag of tags) {
    const mine = ops.filter((o) => tagOf(o) === tag);
    index.push(`\n## ${tag}\n\n| method | path | what |\n|---|---|---|\n`);
    for (const o of mine)
      index.push(
        `| ${o.method.toUpperCase()} | [\`${o.path}\`](rest/${tag}.md#${opAnchor(o)}) | ${cell(o.op.summary)} |\n`,
      );
    const out = [];
    out.push(`# REST reference: ${tag}\n\n`);
    out.push(GENERATED('the OpenAPI document the server serves at `GET /v1/openapi.json`'));
    out.push(`[All operations](../rest.md) · [error codes](../errors.md)\n`);
    for (const { path, method, op } of mine) {
      out.push(
        `\n## ${method.toUpperCase()} ${path}\n\n${op.summary ?? ''}${op.description ? `\n\n${op.description}` : ''}\n\n`,
      );
      out.push(`Auth: ${authOf(op, path)}.\n`);
      const params = op.parameters ?? [];
      if (params.length) {
        out.push('\n| parameter | in | type | required | description |\n|---|---|---|---|---|\n');
        for (const p of params)
          out.push(
            `| \`${p.name}\` | ${p.in} | ${cell(typeOf(p.schema))} | ${p.required ? 'yes' : ''} | ${cell([p.description, limits(p.schema)].filter(Boolean).join('; '))} |\n`,
          );
      }
      const content = op.requestBody?.content ?? {};
      for (const [type, media] of Object.entries(content)) {
        const branches = objectBranches(media.schema);
        if (type !== 'application/json' || branches.length === 0) {
          out.push(`\nBody: \`${type}\`${media.schema ? ` (${cell(typeOf(media.schema))})` : ''}.\n`);
          continue;
        }
        branches.forEach((b, i) => {
          const label = branches.length > 1 ? `Body, one of (${i + 1} of ${branches.length})` : 'Body';
          out.push(`\n${label}:\n\n| field | type | required | description |\n|---|---|---|---|\n`);
          const rows = fieldRows(b);
          out.push(rows.length ? `${rows.join('\n')}\n` : '| (none) | | | |\n');
        });
      }
      const answers = Object.entries(op.responses ?? {}).map(([status, r]) => {
        if (Number(status) >= 400) return `${status}`;
        const schema = r?.content?.['application/json']?.schema;
        const media = Object.keys(r?.content ?? {})[0];
        if (schema) return `${status} \`${typeOf(schema)}\``;
        return media ? `${status} \`${media}\`` : `${status}`;
      });
      if (answers.length) out.push(`\nAnswers: ${cell(answers.join(' · '))}.\n`);
    }
    pages[`rest/${tag}.md`] = out.join('');
  }
  pages['rest.md'] = index.join('');
  return pages;
}

/** docs/reference/socket.md from the protocol package's frame schemas (through its JSON Schema bundle, whose named types are shared). */
export function renderSocketReference() {
  const bundle = protocol.jsonSchemaBundle(protocol);
  const defs = bundle.$defs;
  const defName = (t) => t.replace(/[^A-Za-z0-9_]/g, '_');
  const used = new Set();
  const link = (name) => {
    used.add(name);
    return `[${name}](#${slug(name)})`;
  };
  const table = (rows) =>
    rows.length ? `| field | type | required | description |\n|---|---|---|---|\n${rows.join('\n')}\n` : 'No fields.\n';
  const logged = new Set(protocol.LOGGED_EVENT_TYPES);
  const ephemeral = new Set(protocol.EPHEMERAL_EVENT_TYPES);
  const out = [];
  out.push('# Socket reference\n\n');
  out.push(GENERATED('the frame schemas of `packages/protocol` (`frames.ts`, `replies.ts`, `events.ts`, `errors.ts`)'));
  out.push(
    `Protocol version ${protocol.PROTOCOL_VERSION}. Every frame is a JSON text frame with a \`type\`. ` +
      'A client request carries a number `req_id` and is answered by a `reply` frame with the same `req_id`: ' +
      '`{"type":"reply","req_id":N,"ok":true,…}` with the fields listed under "Reply", or ' +
      '`{"type":"reply","req_id":N,"ok":false,"error":{"code","message","details?"}}` ([error codes](errors.md)). ' +
      'The same frames travel over the fallback transport. How a connection goes — auth, watch, resume, ' +
      'close codes — is in [the socket guide](../protocol/socket.md) and [events and resync](../protocol/events.md). ' +
      'Machine-readable: `GET /v1/schema.json` (JSON Schema; these types are its `$defs`) and `GET /v1/asyncapi.json` (AsyncAPI 3.0).\n\n',
  );
  out.push('## Client frames\n\n| type | reply |\n|---|---|\n');
  const clients = [...protocol.clientFrameSchemas().keys()];
  const replyOf = (type) => (protocol.REQUEST_REPLIES[type] ? defs[`reply.${defName(type)}`] : null);
  for (const type of clients) {
    const fields = Object.keys(replyOf(type)?.properties ?? {});
    out.push(
      `| [\`${type}\`](#${slug(type)}) | ${type === 'auth' ? '`hello`' : fields.length ? fields.map((f) => `\`${f}\``).join(', ') : '—'} |\n`,
    );
  }
  for (const type of clients) {
    out.push(`\n### ${type}\n\n`);
    out.push(table(fieldRows(defs[`client.${defName(type)}`], ['type', 'req_id'], link)));
    const reply = replyOf(type);
    if (reply) {
      const rows = fieldRows(reply, [], link);
      out.push(rows.length ? `\nReply:\n\n${table(rows)}` : '\nReply: `ok` only.\n');
    }
  }
  out.push('\n## Server frames\n\n');
  out.push(
    'Logged events take the channel’s next `seq`, are stored, and can be replayed (`channel.watch {since}`, ' +
      '`GET /v1/channels/{cid}/events`); ephemeral ones are live only. A client ignores a type it does not know.\n\n',
  );
  out.push('| type | kind |\n|---|---|\n');
  const servers = [...protocol.serverFrameSchemas().keys()];
  const clientTypes = new Set(clients);
  const anchor = (t) => (clientTypes.has(t) ? `${slug(t)}-1` : slug(t));
  const kind = (t) => (logged.has(t) ? 'logged event' : ephemeral.has(t) ? 'ephemeral event' : 'frame');
  for (const type of servers) out.push(`| [\`${type}\`](#${anchor(type)}) | ${kind(type)} |\n`);
  for (const type of servers) {
    out.push(`\n### ${type}\n\n${kind(type)[0].toUpperCase()}${kind(type).slice(1)}.\n\n`);
    const branches = objectBranches(defs[`server.${defName(type)}`]);
    branches.forEach((b, i) => {
      if (branches.length > 1) out.push(`${i ? '\n' : ''}One of (${i + 1} of ${branches.length}):\n\n`);
      out.push(table(fieldRows(b, ['type'], link)));
    });
  }
  out.push(
    '\n## Close codes\n\n4000–4499: reconnect (after fixing what the code names); 4500–4999: do not reconnect on your own.\n\n',
  );
  out.push('| code | name | reconnect |\n|---:|---|---|\n');
  for (const [name, code] of Object.entries(protocol.CLOSE_CODES))
    out.push(`| ${code} | \`${name}\` | ${protocol.shouldReconnect(code) ? 'yes' : 'no'} |\n`);
  // The named types the frames above use, and the ones those use, in name order.
  out.push('\n## Types\n');
  const done = new Set();
  const typeSections = [];
  while ([...used].some((n) => !done.has(n))) {
    for (const name of [...used].filter((n) => !done.has(n)).sort()) {
      done.add(name);
      const branches = objectBranches(defs[name]);
      const body = branches.length
        ? branches
            .map(
              (b, i) =>
                `${branches.length > 1 ? `${i ? '\n' : ''}One of (${i + 1} of ${branches.length}):\n\n` : ''}${table(fieldRows(b, [], link))}`,
            )
            .join('')
        : `${cell(typeOf(defs[name], 0, link))}\n`;
      typeSections.push([name, `\n### ${name}\n\n${body}`]);
    }
  }
  for (const [, text] of typeSections.sort(([a], [b]) => a.localeCompare(b))) out.push(text);
  return out.join('');
}

/** docs/reference/errors.md from the error catalogue. */
export function renderErrorsReference() {
  const out = [];
  out.push('# Error codes\n\n');
  out.push(GENERATED('the error catalogue, `packages/protocol/src/errors.ts`'));
  out.push(
    'An error answers `{"error":{"code","message","details?"}}` over HTTP (with the status below) and ' +
      '`{"type":"reply","ok":false,"error":{…}}` on the socket. "Retry" says whether the same request may ' +
      'succeed later unchanged. What each code means and what to do: [errors.md](../errors.md).\n\n',
  );
  out.push('| code | HTTP | retry | meaning |\n|---|---:|---|---|\n');
  for (const [code, e] of Object.entries(protocol.ERRORS))
    out.push(
      `| [\`${code}\`](../errors.md#${code.toLowerCase()}) | ${e.status} | ${e.retryable ? 'yes' : 'no'} | ${cell(e.summary)} |\n`,
    );
  return out.join('');
}
