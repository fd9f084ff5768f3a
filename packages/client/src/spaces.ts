/**
 * Spaces in the SDK (`client.spaces`): the virtual office. `watch()` loads the app's spaces
 * and follows them live (`space.updated`, again after every reconnect); `state` holds them
 * with who is in each, and `mine` the space the connected user is in. Moves (`enter`,
 * `leave`), teleports and knocks are socket requests; laying out the office (`create`,
 * `update`, `remove`, `arrange`) is REST for app admins. Invitations arrive as
 * `on('invitation', …)`; the space's call is `client.call(space.cid)`.
 */
import type {
  CreateSpaceBody,
  ServerEvent,
  Space,
  SpaceInvitation,
  SpaceResponse,
  SpacesResponse,
  UpdateSpaceBody,
} from '@parley/protocol';
import type { Http } from './http.js';
import { Store } from './store.js';

/** What the spaces need from the client. */
export interface SpacesHost {
  request(type: string, body: Record<string, unknown>): Promise<Record<string, unknown>>;
  me(): string;
}

export interface SpacesState {
  /** The app's spaces in office order (after `watch()`). */
  spaces: Space[];
  /** Whether `watch()` is on. */
  watching: boolean;
}

type InvitationHandler = (invitation: SpaceInvitation) => void;

const order = (a: Space, b: Space) => a.position - b.position || a.name.localeCompare(b.name) || (a.id < b.id ? -1 : 1);

export class Spaces {
  /** The office as last seen. */
  readonly state = new Store<SpacesState>({ spaces: [], watching: false });
  readonly #invitationHandlers = new Set<InvitationHandler>();

  constructor(
    private readonly http: Http,
    private readonly host: SpacesHost,
  ) {}

  /** The space `userId` is in (default: the connected user), from the watched office. */
  where(userId: string = this.host.me()): Space | null {
    return this.state.get().spaces.find((s) => s.occupants.some((o) => o.user_id === userId)) ?? null;
  }

  /** The space the connected user is in. */
  get mine(): Space | null {
    return this.where();
  }

  /** Load the office and follow it live; answered with the spaces now. */
  async watch(): Promise<Space[]> {
    const r = (await this.host.request('spaces.watch', {})) as unknown as SpacesResponse;
    this.state.update(() => ({ spaces: [...r.spaces].sort(order), watching: true }));
    return r.spaces;
  }

  async unwatch(): Promise<void> {
    this.state.update((s) => ({ ...s, watching: false }));
    await this.host.request('spaces.unwatch', {});
  }

  /** Go to a space (leaving the one you are in). SPACE_FULL when full, FORBIDDEN during a meeting (knock). */
  async enter(spaceId: string): Promise<Space> {
    const r = (await this.host.request('space.enter', { space_id: spaceId })) as unknown as SpaceResponse;
    this.put(r.space);
    return r.space;
  }

  /** Leave the office; answered with the space left (null when in none). */
  async leave(): Promise<Space | null> {
    const r = (await this.host.request('space.leave', {})) as unknown as { space: Space | null };
    if (r.space) this.put(r.space);
    return r.space;
  }

  /** Ask `userId` to come to the space you are in. */
  async teleport(spaceId: string, userId: string): Promise<SpaceInvitation> {
    return this.invitation('space.teleport', { space_id: spaceId, user_id: userId });
  }

  /** Answer a teleport to `spaceId`; accepting moves you there. */
  async answerTeleport(spaceId: string, accept: boolean): Promise<SpaceInvitation> {
    return this.invitation('space.teleport.answer', { space_id: spaceId, accept });
  }

  /** Knock on a space whose meeting is going on. */
  async knock(spaceId: string): Promise<SpaceInvitation> {
    return this.invitation('space.knock', { space_id: spaceId });
  }

  /** From inside: admit or turn away `userId`, who knocked. */
  async answerKnock(spaceId: string, userId: string, admit: boolean): Promise<SpaceInvitation> {
    return this.invitation('space.knock.answer', { space_id: spaceId, user_id: userId, admit });
  }

  /** App admins: a new space. */
  async create(body: CreateSpaceBody): Promise<Space> {
    const r = await this.http.call<SpaceResponse>('POST', '/v1/spaces', body);
    this.put(r.space);
    return r.space;
  }

  /** App admins: rename, change kind, capacity or position. */
  async update(spaceId: string, body: UpdateSpaceBody): Promise<Space> {
    const r = await this.http.call<SpaceResponse>('PATCH', `/v1/spaces/${spaceId}`, body);
    this.put(r.space);
    return r.space;
  }

  /** App admins: remove an empty space. */
  async remove(spaceId: string): Promise<void> {
    await this.http.call<SpaceResponse>('DELETE', `/v1/spaces/${spaceId}`);
    this.state.update((s) => ({ ...s, spaces: s.spaces.filter((x) => x.id !== spaceId) }));
  }

  /** App admins: the office's order (spaces not named follow). */
  async arrange(order: string[]): Promise<Space[]> {
    const r = await this.http.call<SpacesResponse>('POST', '/v1/spaces/arrange', { order });
    this.state.update((s) => ({ ...s, spaces: r.spaces }));
    return r.spaces;
  }

  /** Teleports and knocks that concern you: made, answered, expired. Returns an unsubscribe. */
  on(_event: 'invitation', handler: InvitationHandler): () => void {
    this.#invitationHandlers.add(handler);
    return () => this.#invitationHandlers.delete(handler);
  }

  /** The client's hook: a space event arrived. */
  onEvent(e: ServerEvent): void {
    if (e.type === 'space.updated') {
      if (e.change === 'deleted')
        this.state.update((s) => ({ ...s, spaces: s.spaces.filter((x) => x.id !== e.space.id) }));
      else this.put(e.space);
    } else if (e.type === 'space.invitation') {
      for (const h of this.#invitationHandlers) h(e.invitation);
    }
  }

  /** The client's hook: the socket came back; follow the office again if it was followed. */
  reconnected(): void {
    if (this.state.get().watching) void this.watch().catch(() => {});
  }

  private async invitation(type: string, body: Record<string, unknown>): Promise<SpaceInvitation> {
    const r = (await this.host.request(type, body)) as unknown as { invitation: SpaceInvitation };
    return r.invitation;
  }

  /**
   * Keep the newest view of a space. A space's `updated_at` moves with layout and status
   * changes but not with every move, so the view that arrived last wins.
   */
  private put(space: Space): void {
    this.state.update((s) => {
      const others = s.spaces.filter((x) => x.id !== space.id);
      // Someone is in one space at a time: a move shows them out of where they were.
      const ids = new Set(space.occupants.map((o) => o.user_id));
      const cleaned = others.map((x) =>
        x.occupants.some((o) => ids.has(o.user_id))
          ? { ...x, occupants: x.occupants.filter((o) => !ids.has(o.user_id)) }
          : x,
      );
      return { ...s, spaces: [...cleaned, space].sort(order) };
    });
  }
}
