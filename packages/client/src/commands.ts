/**
 * Slash commands in the SDK (`client.commands`): the commands you may run in a channel (the
 * composer's autocomplete, cached per channel), running `/name args` (over the socket when
 * connected, else REST), and your ephemeral messages — seen only by you, kept here by channel
 * from `ephemeral.new` / `ephemeral.deleted` (and the answers), never in a channel's history —
 * with their buttons (`act`) and `dismiss`.
 */
import type {
  CommandsResponse,
  CreateCommandBody,
  CreatedCommandResponse,
  EphemeralActionBody,
  EphemeralMessage,
  EphemeralResponse,
  GifProviderBody,
  GifProviderResponse,
  Message,
  RunCommandBody,
  RunCommandResponse,
  ServerEvent,
  SlashCommand,
} from '@parley/protocol';
import type { Http } from './http.js';
import { Store } from './store.js';

/** `client.commands`'s state: your ephemeral messages by channel, oldest first. */
export interface CommandsState {
  ephemeral: Readonly<Record<string, readonly EphemeralMessage[]>>;
}

export interface CommandsHost {
  http: Http;
  /** The server's base URL: images given as paths (`/v1/gif-previews/…`) are resolved against it. */
  baseUrl: string;
  isOnline(): boolean;
  runOverSocket(body: RunCommandBody & { cid: string }): Promise<RunCommandResponse>;
}

const enc = encodeURIComponent;
const LIST_TTL_MS = 60_000;

class SlashCommands {
  readonly state = new Store<CommandsState>({ ephemeral: {} });
  private readonly lists = new Map<string, { at: number; commands: Promise<SlashCommand[]> }>();
  /**
   * Ids removed here (dismissed, sent, deleted): a copy arriving late — a reply that came after
   * its own `ephemeral.new`, which the server does not order — must not bring one back.
   */
  private readonly gone = new Set<string>();

  constructor(private readonly host: CommandsHost) {}

  /** The commands you may run in `cid` (built-ins and the app's), by name; cached for a minute. */
  list(cid: string, opts: { fresh?: boolean } = {}): Promise<SlashCommand[]> {
    const hit = this.lists.get(cid);
    if (hit && !opts.fresh && Date.now() - hit.at < LIST_TTL_MS) return hit.commands;
    const commands = this.host.http
      .call<CommandsResponse>('GET', `/v1/channels/${enc(cid)}/commands`)
      .then((r) => r.commands);
    commands.catch(() => this.lists.delete(cid));
    this.lists.set(cid, { at: Date.now(), commands });
    return commands;
  }

  /**
   * Run `/name args` in `cid`. Resolves with what it did (a message posted, an ephemeral
   * message for you, or nothing); rejects with UNKNOWN_COMMAND, FORBIDDEN, RATE_LIMITED ….
   */
  async run(cid: string, text: string, opts: { parentId?: string | null } = {}): Promise<RunCommandResponse> {
    const body: RunCommandBody = {
      text,
      ...(opts.parentId ? { parent_id: opts.parentId } : {}),
      tz_offset: new Date().getTimezoneOffset(),
    };
    const r = this.host.isOnline()
      ? await this.host.runOverSocket({ cid, ...body })
      : await this.host.http.call<RunCommandResponse>('POST', `/v1/channels/${enc(cid)}/commands/run`, body);
    if (r.ephemeral) this.put(r.ephemeral);
    return r;
  }

  /** Your ephemeral messages in `cid`. */
  ephemeralIn(cid: string): readonly EphemeralMessage[] {
    return this.state.get().ephemeral[cid] ?? [];
  }

  /** Click a button of your ephemeral message: it may be replaced, removed, or post a message. */
  async act(ephemeral: EphemeralMessage, name: string, value?: string): Promise<{ message?: Message }> {
    const body: EphemeralActionBody = { name, ...(value !== undefined ? { value } : {}) };
    const r = await this.host.http.call<EphemeralResponse>('POST', `/v1/ephemerals/${enc(ephemeral.id)}/actions`, body);
    if (r.ephemeral) this.put(r.ephemeral);
    else this.drop(ephemeral.cid, ephemeral.id);
    return r.message ? { message: r.message } : {};
  }

  /** Dismiss your ephemeral message (on every connection of yours). */
  async dismiss(ephemeral: EphemeralMessage): Promise<void> {
    this.drop(ephemeral.cid, ephemeral.id);
    await this.host.http.call('DELETE', `/v1/ephemerals/${enc(ephemeral.id)}`).catch((e: unknown) => {
      // Already gone (sent, expired, dismissed elsewhere): nothing left to do.
      if ((e as { code?: string }).code !== 'NOT_FOUND') throw e;
    });
  }

  private put(raw: EphemeralMessage): void {
    if (this.gone.has(raw.id)) return;
    const e = raw.images.some((i) => i.url.startsWith('/'))
      ? {
          ...raw,
          images: raw.images.map((i) => (i.url.startsWith('/') ? { ...i, url: this.resolve(i.url) } : i)),
        }
      : raw;
    this.state.update((s) => {
      const list = s.ephemeral[e.cid] ?? [];
      const next = list.some((x) => x.id === e.id) ? list.map((x) => (x.id === e.id ? e : x)) : [...list, e];
      return { ephemeral: { ...s.ephemeral, [e.cid]: next } };
    });
  }

  private resolve(path: string): string {
    try {
      return new URL(path, this.host.baseUrl).href;
    } catch {
      return path; // no absolute base (a page on the server's own origin): the path is enough
    }
  }

  private drop(cid: string, id: string): void {
    if (this.gone.size > 1000) this.gone.clear();
    this.gone.add(id);
    this.state.update((s) => {
      const list = s.ephemeral[cid];
      if (!list?.some((x) => x.id === id)) return s;
      return { ephemeral: { ...s.ephemeral, [cid]: list.filter((x) => x.id !== id) } };
    });
  }

  // ---- the registry (workspace owners and admins) ---------------------------------------

  /** The app's registry: the built-ins, then the registered commands (owners and admins). */
  async registry(): Promise<SlashCommand[]> {
    return (await this.host.http.call<CommandsResponse>('GET', '/v1/commands')).commands;
  }

  /** Register a command; its signing secret is answered only now. */
  async register(body: CreateCommandBody): Promise<CreatedCommandResponse> {
    const r = await this.host.http.call<CreatedCommandResponse>('POST', '/v1/commands', body);
    this.lists.clear();
    return r;
  }

  async unregister(id: string): Promise<void> {
    await this.host.http.call('DELETE', `/v1/commands/${enc(id)}`);
    this.lists.clear();
  }

  /** The GIF search of `/giphy` (null: none). */
  async gifProvider(): Promise<GifProviderResponse['gif_provider']> {
    return (await this.host.http.call<GifProviderResponse>('GET', '/v1/commands/gif-provider')).gif_provider;
  }

  async setGifProvider(body: GifProviderBody): Promise<GifProviderResponse['gif_provider']> {
    return (await this.host.http.call<GifProviderResponse>('PUT', '/v1/commands/gif-provider', body)).gif_provider;
  }

  async removeGifProvider(): Promise<void> {
    await this.host.http.call('DELETE', '/v1/commands/gif-provider');
  }

  /** @internal the client routes `ephemeral.*` here. */
  onEvent(e: ServerEvent): void {
    if (e.type === 'ephemeral.new') this.put(e.ephemeral);
    else if (e.type === 'ephemeral.deleted') this.drop(e.cid, e.id);
  }

  /** @internal forget everything (disconnect). */
  reset(): void {
    this.lists.clear();
    this.gone.clear();
    this.state.update(() => ({ ephemeral: {} }));
  }
}

// Exported under its public name from another local one: React Native's Babel preset (its codegen
// plugin, which Metro and Jest run on every file) refuses an export list naming a local
// `Commands`, a name it keeps for native components' commands — and esbuild writes
// `export class` as such a list.
export { SlashCommands as Commands };
