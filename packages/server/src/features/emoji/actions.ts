/**
 * Custom emoji: an app's own `:shortcode:` images. Added and removed by app admins (or by every
 * user, when the app's emoji setting says `everyone`), each change audited and told to every
 * connection of the app (`emoji.updated`, after commit).
 *
 * The image goes through the files pipeline's checks: its type is read from the bytes (sniff.ts;
 * PNG, GIF or WebP only), its size is bounded, and sharp re-encodes it to at most EMOJI_SIZE px a
 * side — animation kept (every frame of a GIF or WebP), metadata dropped. Names (the shortcode and
 * its aliases) are unique per app across both, by the emoji_names primary key, and none is a
 * standard emoji's name (standard.ts): CONFLICT with `details.reason: "standard_emoji"`. Emoji
 * added before that rule under such a name are left as they are (removing one would turn its
 * messages' `:name:` back into text); an admin may remove it and add it again under another.
 *
 * Deleting an emoji touches no message: text keeps its `:shortcode:`, which simply shows as text
 * again, and reactions keep their type.
 */
import { randomUUID } from 'node:crypto';
import {
  type CustomEmoji,
  EMOJI_SIZE,
  type EmojiSettings,
  MAX_EMOJI_ALIASES,
  MAX_EMOJI_BYTES,
  SHORTCODE_PATTERN,
} from '@parley/protocol';
import { and, eq, inArray } from 'drizzle-orm';
import type { Metadata } from 'sharp';
import type { Caller } from '../../platform/auth.js';
import { schema } from '../../platform/db/index.js';
import { ApiError, invalid, notFound } from '../../platform/errors.js';
import { withTransaction } from '../../platform/event-log.js';
import { sharp } from '../../platform/lazy-deps.js';
import { checkRate } from '../../platform/limits.js';
import type { Services } from '../../services.js';
import { actorOfCaller, checkAppAdmin, isAppAdmin, recordAudit } from '../audit/index.js';
import { checkUploadRules, sniff } from '../files/index.js';
import { standardShortcodes } from './standard.js';

type EmojiRow = typeof schema.customEmoji.$inferSelect;

const EMOJI_TYPES = new Set(['image/png', 'image/gif', 'image/webp']);
const SHORTCODE = new RegExp(SHORTCODE_PATTERN);
/** Largest decoded image (pixels over all frames) sharp is allowed to read. */
const MAX_PIXELS = 4096 * 4096;

export function presentEmoji(r: EmojiRow): CustomEmoji {
  return {
    shortcode: r.shortcode,
    aliases: r.aliases,
    url: `/v1/emoji/images/${r.imageId}`,
    content_type: r.contentType,
    animated: r.animated,
    width: r.width,
    height: r.height,
    created_by: r.createdBy,
    created_at: r.createdAt.toISOString(),
  };
}

/** Strip surrounding colons and check a shortcode or alias; VALIDATION_ERROR says which. */
export function checkShortcode(raw: string, what = 'shortcode'): string {
  const s = raw.trim().replace(/^:/, '').replace(/:$/, '');
  if (!SHORTCODE.test(s))
    throw invalid(`${what} must be 2–32 of a-z, 0-9, _, - and + (lower case), without colons`, { [what]: raw });
  return s;
}

export async function listEmoji(svc: Services, caller: Caller): Promise<CustomEmoji[]> {
  const rows = await svc.db
    .select()
    .from(schema.customEmoji)
    .where(eq(schema.customEmoji.appId, caller.app.id))
    .orderBy(schema.customEmoji.shortcode);
  return rows.map(presentEmoji);
}

export async function emojiSettings(svc: Services, appId: string): Promise<EmojiSettings> {
  const [row] = await svc.db.select().from(schema.emojiSettings).where(eq(schema.emojiSettings.appId, appId));
  return { who_can_manage: row?.whoCanManage === 'everyone' ? 'everyone' : 'admins' };
}

/**
 * Throw unless the caller may add and remove emoji: app admins, or any non-guest under
 * `everyone`. Answers whether the caller is an admin (or the server token): only they remove
 * someone else's emoji.
 */
async function checkManage(svc: Services, caller: Caller): Promise<boolean> {
  if (caller.kind === 'server') return true;
  if (await isAppAdmin(svc, caller.app.id, caller.userId)) return true;
  const { who_can_manage } = await emojiSettings(svc, caller.app.id);
  if (who_can_manage !== 'everyone')
    throw new ApiError('FORBIDDEN', 'Only app admins may add or remove custom emoji in this app');
  const [u] = await svc.db
    .select({ role: schema.users.role })
    .from(schema.users)
    .where(and(eq(schema.users.appId, caller.app.id), eq(schema.users.id, caller.userId)));
  if (!u || u.role === 'guest') throw new ApiError('FORBIDDEN', 'Guests cannot add or remove custom emoji');
  return false;
}

export async function setEmojiSettings(svc: Services, caller: Caller, settings: EmojiSettings) {
  await checkAppAdmin(svc, caller);
  const appId = caller.app.id;
  await svc.db.transaction(async (tx) => {
    await tx
      .insert(schema.emojiSettings)
      .values({ appId, whoCanManage: settings.who_can_manage })
      .onConflictDoUpdate({ target: schema.emojiSettings.appId, set: { whoCanManage: settings.who_can_manage } });
    await recordAudit(tx, {
      appId,
      actor: actorOfCaller(caller),
      action: 'emoji.settings_updated',
      target: { kind: 'app', id: appId },
      details: { ...settings },
    });
  });
  return { settings };
}

/** Re-encode an emoji image: at most EMOJI_SIZE a side, every frame kept, no metadata. */
async function processImage(bytes: Buffer, mime: string) {
  let meta: Metadata;
  try {
    meta = await sharp(bytes, { animated: true, limitInputPixels: MAX_PIXELS }).metadata();
  } catch {
    throw new ApiError('INVALID_FILE_TYPE', 'The image cannot be read');
  }
  const animated = (meta.pages ?? 1) > 1;
  const img = sharp(bytes, { animated: true, limitInputPixels: MAX_PIXELS }).resize(EMOJI_SIZE, EMOJI_SIZE, {
    fit: 'inside',
    withoutEnlargement: true,
  });
  const out =
    mime === 'image/gif'
      ? await img.gif().toBuffer({ resolveWithObject: true })
      : mime === 'image/webp'
        ? await img.webp().toBuffer({ resolveWithObject: true })
        : await img.png().toBuffer({ resolveWithObject: true });
  // With animation, sharp stacks the frames: the frame height is pageHeight.
  const height = out.info.pageHeight ?? out.info.height;
  return { data: out.data, width: out.info.width, height, animated };
}

/**
 * An image as an emoji stores it, checked as `addEmoji` checks an upload (its size; PNG, GIF or
 * WebP by its bytes; readable) and re-encoded, for callers that write the rows themselves (an
 * import, features/imports): throws the ApiError an upload would get.
 */
export async function prepareEmojiImage(bytes: Buffer, filename: string) {
  if (bytes.length > MAX_EMOJI_BYTES)
    throw new ApiError('PAYLOAD_TOO_LARGE', `An emoji image is at most ${MAX_EMOJI_BYTES / 1024} KiB`);
  if (bytes.length === 0) throw invalid('The image is empty');
  const sniffed = await sniff(bytes.subarray(0, 4100), filename, undefined);
  if (!EMOJI_TYPES.has(sniffed.mime))
    throw new ApiError('INVALID_FILE_TYPE', 'An emoji image must be PNG, GIF or WebP', { type: sniffed.mime });
  return { ...(await processImage(bytes, sniffed.mime)), contentType: sniffed.mime };
}

export interface EmojiUpload {
  shortcode: string;
  aliases: string[];
  bytes: Buffer;
  declaredType: string | undefined;
  filename: string;
}

export async function addEmoji(svc: Services, caller: Caller, up: EmojiUpload): Promise<CustomEmoji> {
  await checkManage(svc, caller);
  const appId = caller.app.id;
  // An emoji is an upload: it counts against the same per-user limit as files.
  if (caller.kind === 'user') await checkRate(svc, 'uploads', appId, caller.userId);
  const shortcode = checkShortcode(up.shortcode);
  const aliases = [...new Set(up.aliases.filter((a) => a.trim() !== '').map((a) => checkShortcode(a, 'alias')))].filter(
    (a) => a !== shortcode,
  );
  if (aliases.length > MAX_EMOJI_ALIASES) throw invalid(`An emoji has at most ${MAX_EMOJI_ALIASES} aliases`);
  // As Slack does: `:smile:` is the standard emoji, and no app's own image may take its name.
  const standard = [shortcode, ...aliases].filter((n) => standardShortcodes().has(n));
  if (standard.length)
    throw new ApiError('CONFLICT', `${standard.map((n) => `:${n}:`).join(', ')} is a standard emoji's name`, {
      reason: 'standard_emoji',
      names: standard,
    });
  if (up.bytes.length > MAX_EMOJI_BYTES)
    throw new ApiError('PAYLOAD_TOO_LARGE', `An emoji image is at most ${MAX_EMOJI_BYTES / 1024} KiB`);
  if (up.bytes.length === 0) throw invalid('The image is empty');
  const sniffed = await sniff(up.bytes.subarray(0, 4100), up.filename, up.declaredType);
  if (!EMOJI_TYPES.has(sniffed.mime))
    throw new ApiError('INVALID_FILE_TYPE', 'An emoji image must be PNG, GIF or WebP', { type: sniffed.mime });
  // The app's upload rules apply to emoji as to any image (types allowed, the image size limit).
  checkUploadRules(svc, caller.app, sniffed.mime, 'image', up.bytes.length);
  const img = await processImage(up.bytes, sniffed.mime);
  const imageId = randomUUID();
  // The store's key shape (app/uuid.ext); the extension keeps emoji apart from uploads.
  const storageKey = `${appId}/${imageId}.emoji`;
  await svc.storage.store.putBytes(storageKey, img.data, { contentType: sniffed.mime });
  const names = [shortcode, ...aliases];
  let emoji: CustomEmoji;
  try {
    // withTransaction: `emoji.updated` goes to every connection after commit, and to webhook
    // endpoints that want it through the outbox, in the same transaction.
    emoji = await withTransaction(svc, async (tx, out) => {
      const taken = await tx
        .insert(schema.emojiNames)
        .values(names.map((name) => ({ appId, name, shortcode })))
        .onConflictDoNothing()
        .returning({ name: schema.emojiNames.name });
      if (taken.length !== names.length)
        throw new ApiError('CONFLICT', 'An emoji of this app already uses this name', {
          names: names.filter((n) => !taken.some((t) => t.name === n)),
        });
      const [r] = await tx
        .insert(schema.customEmoji)
        .values({
          appId,
          shortcode,
          aliases,
          imageId,
          storageKey,
          contentType: sniffed.mime,
          animated: img.animated,
          width: img.width,
          height: img.height,
          createdBy: caller.userId ?? 'server',
        })
        .returning();
      await recordAudit(tx, {
        appId,
        actor: actorOfCaller(caller),
        action: 'emoji.added',
        target: { kind: 'emoji', id: shortcode },
        details: { aliases, content_type: sniffed.mime, animated: img.animated },
      });
      const e = presentEmoji(r as EmojiRow);
      out.push({
        to: 'app',
        appId,
        event: { type: 'emoji.updated', change: 'added', shortcode, emoji: e, created_at: new Date().toISOString() },
      });
      return e;
    });
  } catch (err) {
    await svc.storage.store.remove(storageKey).catch(() => undefined);
    throw err;
  }
  return emoji;
}

export async function removeEmoji(svc: Services, caller: Caller, rawShortcode: string): Promise<void> {
  const admin = await checkManage(svc, caller);
  const appId = caller.app.id;
  const shortcode = rawShortcode.replace(/^:/, '').replace(/:$/, '');
  const row = await withTransaction(svc, async (tx, out) => {
    const [r] = await tx
      .delete(schema.customEmoji)
      .where(and(eq(schema.customEmoji.appId, appId), eq(schema.customEmoji.shortcode, shortcode)))
      .returning();
    if (!r) throw notFound('Emoji');
    // Under `everyone`, people remove their own emoji; someone else's stays an admin's call.
    if (!admin && r.createdBy !== caller.userId)
      throw new ApiError('FORBIDDEN', 'Only its author or an app admin may remove this emoji');
    await tx
      .delete(schema.emojiNames)
      .where(and(eq(schema.emojiNames.appId, appId), inArray(schema.emojiNames.name, [r.shortcode, ...r.aliases])));
    await recordAudit(tx, {
      appId,
      actor: actorOfCaller(caller),
      action: 'emoji.removed',
      target: { kind: 'emoji', id: shortcode },
      details: { aliases: r.aliases },
    });
    out.push({
      to: 'app',
      appId,
      event: { type: 'emoji.updated', change: 'removed', shortcode, emoji: null, created_at: new Date().toISOString() },
    });
    return r;
  });
  // After commit: the bytes go only once no row names them.
  await svc.storage.store.remove(row.storageKey).catch(() => undefined);
}

/** The stored image of an emoji by its image id (the public URL's capability). */
export async function emojiImage(svc: Services, imageId: string): Promise<EmojiRow> {
  const [row] = await svc.db.select().from(schema.customEmoji).where(eq(schema.customEmoji.imageId, imageId));
  if (!row) throw notFound('Emoji');
  return row;
}
