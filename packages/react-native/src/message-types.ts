/**
 * The types of a message row and of the `MessageUI` slot, as in the React kit: an app replaces
 * how a message renders, in the list and in threads, and keeps the list (paging, grouping, read
 * marks, live updates).
 */
import type { LocalMessage, ReadBy } from '@parley/client';
import { type ComponentType, createContext } from 'react';

/** Props of {@link MessageItem}. */
export interface MessageItemProps {
  message: LocalMessage;
  /** Continues a group from the same author: no avatar and name. */
  continued?: boolean;
  /** Read-by of this message (the viewer's latest): "Seen by …" under it. */
  readBy?: ReadBy | null;
  /** With `readBy`: a DM, where it says only "Seen". */
  dm?: boolean;
  /** Called by the "N replies" summary and the "Reply in thread" action; omit to hide both. */
  onOpenThread?(parentId: string): void;
  /** Which input edits this message: null for the channel's, a parent id for a thread's. */
  editScope?: string | null;
  /** Highlight (e.g. while it is being edited). */
  highlighted?: boolean;
}

/** What a message can do, bound to one message (each returns the SDK's promise). */
export interface MessageActions {
  /** Add the viewer's reaction of `type`, or take it away when they have it. */
  toggleReaction(type: string): Promise<unknown>;
  /** Put the message in the channel's (or thread's) input for editing. */
  edit(): void;
  /** Delete it (no confirmation: that is the UI's). */
  remove(): Promise<unknown>;
  /** Quote it in the channel's input. */
  quote(): void;
  /** Open its thread; undefined where threads cannot be opened (a reply, or no handler). */
  openThread: (() => void) | undefined;
  /** Send a failed message again. */
  retry(): Promise<unknown>;
  /** Pin it, or unpin it when pinned. */
  togglePin(): Promise<unknown>;
}

/** Props a {@link MessageUIProps | MessageUI} component receives. */
export interface MessageUIProps {
  /** The message, current: a new object on every change. */
  message: LocalMessage;
  /** The viewer wrote it. */
  mine: boolean;
  /** Continues a group from the same author. */
  continued: boolean;
  /** Being edited. */
  highlighted: boolean;
  /** Actions bound to this message. */
  actions: MessageActions;
  /** The kit's own row: render `<Default {...defaultProps} />` to fall back to it. */
  Default: ComponentType<MessageItemProps>;
  /** The props the list would give the default row. */
  defaultProps: MessageItemProps;
}

/** A component that renders one message row. */
export type MessageUIComponent = ComponentType<MessageUIProps>;

/** The nearest `<Channel MessageUI>`; read by MessageList and Thread when they are given none. */
export const MessageUIContext = createContext<MessageUIComponent | null>(null);
