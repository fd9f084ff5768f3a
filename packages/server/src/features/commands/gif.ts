/**
 * `/giphy word`: search the app's GIF provider (GIPHY or Tenor, `PUT /v1/commands/gif-provider`)
 * and show the sender an ephemeral preview with Send, Shuffle and Cancel (as Stream does).
 * Shuffle moves to the next result of the same search (kept with the preview, so any node
 * answers the click); Send fetches the GIF, stores it as an upload of the sender (the files
 * pipeline: sniffed, stripped, thumbnailed) and posts it as their message, so readers load it
 * from Parley, not from the provider (which then learns nothing of who reads). Every call out goes
 * through the SSRF rules, with the `commands` outbound allow-list.
 */
import { Readable } from 'node:stream';
import { type EphemeralMessage, type Message, uuidv7 } from '@parley/protocol';
import { and, eq } from 'drizzle-orm';
import type { Caller } from '../../platform/auth.js';
import { schema } from '../../platform/db/index.js';
import { ApiError } from '../../platform/errors.js';
import { allowFor } from '../../platform/outbound.js';
import type { Services } from '../../services.js';
import { checkPost, loadChannel } from '../channels/index.js';
import { receive, storeUpload } from '../files/index.js';
import { FetchRefused, safeFetch } from '../links/index.js';
import { sendMessage } from '../messages/index.js';
import { checkCan } from '../permissions/index.js';
import { type EphemeralRow, type EphemeralTarget, removeEphemeral, showEphemeral } from './ephemeral.js';
import { type GifProvider, gifProviderOf } from './registry.js';

/** Results asked for per search: Shuffle walks through them. */
const RESULTS = 25;
const SEARCH_TIMEOUT_MS = 5_000;
const GIF_MAX_BYTES = 15 * 1024 * 1024;

export interface Gif {
  id: string;
  title: string;
  url: string;
  width: number | null;
  height: number | null;
}

interface GifState extends Record<string, unknown> {
  query: string;
  results: Gif[];
  index: number;
}

const num = (v: unknown): number | null => {
  const n = typeof v === 'string' ? Number(v) : typeof v === 'number' ? v : Number.NaN;
  return Number.isFinite(n) && n >= 0 ? Math.round(n) : null;
};
const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const isHttp = (u: string) => /^https?:\/\//.test(u) && u.length <= 2048;

/** GIPHY's search answer (`data[].images.original`) → GIFs. */
export function parseGiphy(json: unknown): Gif[] {
  const data = (json as { data?: unknown })?.data;
  if (!Array.isArray(data)) throw new Error('no data array');
  const out: Gif[] = [];
  for (const d of data) {
    const img = (d as { images?: Record<string, Record<string, unknown>> })?.images;
    const pick = img?.downsized ?? img?.original ?? img?.fixed_height;
    const url = str(pick?.url);
    if (!isHttp(url)) continue;
    out.push({
      id: str((d as { id?: unknown }).id),
      title: str((d as { title?: unknown }).title).slice(0, 200),
      url,
      width: num(pick?.width),
      height: num(pick?.height),
    });
  }
  return out;
}

/** Tenor v2's search answer (`results[].media_formats.gif`) → GIFs. */
export function parseTenor(json: unknown): Gif[] {
  const results = (json as { results?: unknown })?.results;
  if (!Array.isArray(results)) throw new Error('no results array');
  const out: Gif[] = [];
  for (const r of results) {
    const f = (r as { media_formats?: Record<string, { url?: unknown; dims?: unknown }> })?.media_formats;
    const pick = f?.gif ?? f?.mediumgif ?? f?.tinygif;
    const url = str(pick?.url);
    if (!isHttp(url)) continue;
    const dims = Array.isArray(pick?.dims) ? pick.dims : [];
    const rr = r as { id?: unknown; title?: unknown; content_description?: unknown };
    out.push({
      id: str(rr.id),
      title: (str(rr.title) || str(rr.content_description)).slice(0, 200),
      url,
      width: num(dims[0]),
      height: num(dims[1]),
    });
  }
  return out;
}

/** The provider's search URL for `q`. */
export function searchUrl(p: GifProvider, q: string): string {
  if (p.provider === 'giphy') {
    const u = new URL(`${p.baseUrl}/v1/gifs/search`);
    u.searchParams.set('api_key', p.apiKey);
    u.searchParams.set('q', q);
    u.searchParams.set('limit', String(RESULTS));
    u.searchParams.set('offset', '0');
    u.searchParams.set('rating', p.rating ?? 'g');
    u.searchParams.set('lang', 'en');
    return u.href;
  }
  const u = new URL(`${p.baseUrl}/v2/search`);
  u.searchParams.set('q', q);
  u.searchParams.set('key', p.apiKey);
  u.searchParams.set('client_key', 'parley');
  u.searchParams.set('limit', String(RESULTS));
  u.searchParams.set('contentfilter', p.rating ?? 'high');
  u.searchParams.set('media_filter', 'gif,tinygif');
  return u.href;
}

/** Search; throws an Error whose message the sender can read. */
async function search(svc: Services, p: GifProvider, q: string): Promise<Gif[]> {
  let res: Awaited<ReturnType<typeof safeFetch>>;
  try {
    res = await safeFetch(searchUrl(p, q), {
      accept: 'application/json',
      userAgent: 'Parley-Commands/1.0',
      allow: allowFor(svc.config, 'commands'),
      timeoutMs: SEARCH_TIMEOUT_MS,
      maxRedirects: 0,
      maxBytes: 2 * 1024 * 1024,
    });
  } catch (err) {
    const why = err instanceof FetchRefused ? err.reason : String((err as Error).message ?? err);
    throw new Error(`The GIF search could not be reached (${why}).`);
  }
  if (res.status < 200 || res.status >= 300) throw new Error(`The GIF search answered HTTP ${res.status}.`);
  try {
    const json = JSON.parse(res.body.toString('utf8')) as unknown;
    return p.provider === 'giphy' ? parseGiphy(json) : parseTenor(json);
  } catch {
    throw new Error('The GIF search answered something that is not a list of GIFs.');
  }
}

/** How long a preview's signed image path works. */
const PREVIEW_TTL_S = 30 * 60;

/** The signature of a preview image path: only this server makes them. */
function previewSig(svc: Services, appId: string, id: string, n: number, exp: number): string {
  return svc.sealer.mac('gif-preview', appId, id, String(n), String(exp)).toString('base64url').slice(0, 32);
}

/** The path of result `n` of preview `id`, proxied by this server (`GET /v1/gif-previews/…`). */
function previewPath(svc: Services, appId: string, id: string, n: number): string {
  const exp = Math.floor(svc.clock() / 1000) + PREVIEW_TTL_S;
  return `/v1/gif-previews/${appId}/${id}/${n}?exp=${exp}&sig=${previewSig(svc, appId, id, n, exp)}`;
}

function preview(svc: Services, appId: string, id: string, state: GifState) {
  const gif = state.results[state.index] as Gif;
  return {
    text: `/giphy ${state.query}`,
    images: [
      {
        url: previewPath(svc, appId, id, state.index),
        title: gif.title || state.query,
        width: gif.width,
        height: gif.height,
      },
    ],
    actions: [
      { name: 'send', text: 'Send', style: 'primary' as const },
      { name: 'shuffle', text: 'Shuffle' },
      { name: 'cancel', text: 'Cancel' },
    ],
  };
}

/** Fetch a GIF's bytes from the provider's media host; throws an Error the sender can read. */
async function fetchGif(svc: Services, url: string): Promise<Buffer> {
  try {
    const res = await safeFetch(url, {
      accept: 'image/gif,image/*',
      userAgent: 'Parley-Commands/1.0',
      allow: allowFor(svc.config, 'commands'),
      timeoutMs: 15_000,
      maxRedirects: 2,
      maxBytes: Math.min(GIF_MAX_BYTES, svc.config.uploadMaxBytes),
    });
    if (res.status < 200 || res.status >= 300) throw new Error(`HTTP ${res.status}`);
    return res.body;
  } catch (err) {
    throw new Error(err instanceof FetchRefused ? err.reason : String((err as Error).message ?? err));
  }
}

/**
 * `GET /v1/gif-previews/{app}/{id}/{n}?exp&sig`: result `n` of a live preview, fetched from the
 * provider and answered as the GIF (only bytes that are one). The signed path is the credential,
 * as for files' signed links: an `<img>` sends no bearer token.
 */
export async function previewImage(
  svc: Services,
  appId: string,
  id: string,
  n: number,
  exp: number,
  sig: string,
): Promise<Buffer | null> {
  if (exp < svc.clock() / 1000 || sig !== previewSig(svc, appId, id, n, exp)) return null;
  const e = schema.ephemeralMessages;
  const [row] = await svc.db
    .select({ state: e.state })
    .from(e)
    .where(and(eq(e.appId, appId), eq(e.id, id)));
  const gif = (row?.state as GifState | undefined)?.results?.[n];
  if (!gif) return null;
  const bytes = await fetchGif(svc, gif.url).catch(() => null);
  // GIF87a / GIF89a only: the proxy serves GIFs, nothing else a provider might answer.
  return bytes && bytes.subarray(0, 4).toString('latin1') === 'GIF8' ? bytes : null;
}

/** Run `/giphy q`: the sender's preview, or an ephemeral error. */
export async function runGiphy(svc: Services, t: EphemeralTarget, q: string): Promise<EphemeralMessage> {
  const query = q.trim().slice(0, 100);
  if (!query) return showEphemeral(svc, t, { text: 'Say what to search for: /giphy cats', error: true });
  const provider = await gifProviderOf(svc, t.appId);
  if (!provider)
    return showEphemeral(svc, t, {
      text: 'GIF search is not set up in this workspace: an admin configures GIPHY or Tenor first.',
      error: true,
    });
  let results: Gif[];
  try {
    results = await search(svc, provider, query);
  } catch (err) {
    svc.log.warn({ app: t.appId, err: (err as Error).message }, 'gif search failed');
    return showEphemeral(svc, t, { text: (err as Error).message, error: true });
  }
  if (results.length === 0) return showEphemeral(svc, t, { text: `No GIFs found for “${query}”.`, error: true });
  const state: GifState = { query, results, index: 0 };
  const id = uuidv7();
  return showEphemeral(svc, t, preview(svc, t.appId, id, state), state, id);
}

/** A click on a GIF preview: send, shuffle or cancel. */
export async function actOnGif(
  svc: Services,
  me: Caller & { kind: 'user' },
  row: EphemeralRow,
  action: string,
): Promise<{ ephemeral: EphemeralMessage | null; message?: Message }> {
  const state = row.state as GifState;
  const t: EphemeralTarget = {
    appId: row.appId,
    userId: row.userId,
    cid: row.cid,
    parentId: row.parentId,
    command: row.command,
    commandId: null,
  };
  if (action === 'cancel') {
    await removeEphemeral(svc, row);
    return { ephemeral: null };
  }
  if (action === 'shuffle') {
    const next: GifState = { ...state, index: (state.index + 1) % state.results.length };
    return { ephemeral: await showEphemeral(svc, t, preview(svc, t.appId, row.id, next), next, row.id) };
  }
  if (action !== 'send') throw new ApiError('VALIDATION_ERROR', `No button "${action}" on this message`);
  const gif = state.results[state.index] as Gif;
  const a = await loadChannel(svc.db, me, row.cid);
  if (!a) throw new ApiError('NOT_FOUND', 'Channel not found');
  checkPost(a, svc.clock());
  checkCan(a, 'upload-file', svc.clock());
  let bytes: Buffer;
  try {
    bytes = await fetchGif(svc, gif.url);
  } catch (err) {
    const e = await showEphemeral(
      svc,
      t,
      {
        ...preview(svc, t.appId, row.id, state),
        text: `/giphy ${state.query}: the GIF could not be fetched (${(err as Error).message}); try Shuffle.`,
      },
      state,
      row.id,
    );
    return { ephemeral: e };
  }
  const got = await receive(svc, Readable.from([bytes]));
  const name = `${
    (gif.title || state.query)
      .replace(/[^\w -]+/g, '')
      .trim()
      .slice(0, 60) || 'giphy'
  }.gif`;
  const attachment = await storeUpload(svc, me, a, got, name, 'image/gif');
  // The preview's own id makes the send idempotent: a second click finds the message stored.
  const message = await sendMessage(svc, me, row.cid, {
    id: row.id,
    text: '',
    attachments: [attachment.id],
    ...(row.parentId ? { parent_id: row.parentId } : {}),
  });
  await removeEphemeral(svc, row);
  return { ephemeral: null, message };
}
