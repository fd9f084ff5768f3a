/**
 * Files in messages: images as pictures, other files as cards that open in the system's viewer,
 * and, while a send uploads, each file's progress. File URLs are signed links asked in batches
 * (`POST /v1/files/links`), as in the React kit: a phone's `<Image>` cannot send our headers.
 */
import type { ChatClient, LocalUpload, NativeFile, UploadFile } from '@parley/client';
import type { Attachment } from '@parley/protocol';
import { useEffect, useState } from 'react';
import { Image, Linking, Pressable, Text, View } from 'react-native';
import { useChatClient, usePalette } from './context.js';
import { formatBytes } from './format.js';

interface Link {
  url: string;
  thumbs: Record<string, string>;
  expires: number;
}

/** Signed links by file id, asked for together: one request per tick for every file on screen. */
class LinkCache {
  private readonly links = new Map<string, Link>();
  private waiting = new Map<string, ((l: Link | null) => void)[]>();
  private timer: ReturnType<typeof setTimeout> | null = null;
  constructor(private readonly client: ChatClient) {}

  get(id: string, thumbs: readonly string[]): Promise<Link | null> {
    const l = this.links.get(id);
    if (l && l.expires - 60_000 > Date.now() && thumbs.every((t) => t in l.thumbs)) return Promise.resolve(l);
    return new Promise((resolve) => {
      this.waiting.set(id, [...(this.waiting.get(id) ?? []), resolve]);
      this.timer ??= setTimeout(() => void this.flush(), 0);
    });
  }

  private async flush(): Promise<void> {
    this.timer = null;
    const batch = this.waiting;
    this.waiting = new Map();
    const ids = [...batch.keys()];
    for (let i = 0; i < ids.length; i += 100) {
      const part = ids.slice(i, i + 100);
      let got: Record<string, { url: string; thumbs: Record<string, string>; expires_at: string }> = {};
      try {
        got = (await this.client.http.call<{ links: typeof got }>('POST', '/v1/files/links', { ids: part })).links;
      } catch {
        // No links: the files show as cards without a picture for now.
      }
      for (const id of part) {
        const g = got[id];
        const link = g
          ? {
              url: this.client.http.resolve(g.url),
              thumbs: Object.fromEntries(Object.entries(g.thumbs).map(([k, v]) => [k, this.client.http.resolve(v)])),
              expires: Date.parse(g.expires_at),
            }
          : null;
        if (link) this.links.set(id, link);
        for (const resolve of batch.get(id) ?? []) resolve(link);
      }
    }
  }
}

const caches = new WeakMap<ChatClient, LinkCache>();

/** A file's signed links; null until they arrive (or when the viewer may not read it). */
export function useFileLink(a: Attachment | null): Link | null {
  const client = useChatClient();
  const [link, setLink] = useState<Link | null>(null);
  const id = a?.id ?? null;
  const thumbKey = a ? Object.keys(a.thumbs).join(',') : '';
  useEffect(() => {
    if (!id) return;
    let cache = caches.get(client);
    if (!cache) {
      cache = new LinkCache(client);
      caches.set(client, cache);
    }
    let live = true;
    void cache.get(id, thumbKey ? thumbKey.split(',') : []).then((l) => {
      if (live) setLink(l);
    });
    return () => {
      live = false;
    };
  }, [client, id, thumbKey]);
  return link;
}

function ImageAttachment({ a }: { a: Attachment }) {
  const palette = usePalette();
  const link = useFileLink(a);
  const w = Math.min(240, a.width ?? 240);
  const h = a.width && a.height ? Math.round((w * a.height) / a.width) : 160;
  const src = link ? (link.thumbs['360'] ?? link.url) : null;
  return (
    <Pressable
      role="button"
      accessibilityLabel={`Image ${a.name}`}
      onPress={() => link && void Linking.openURL(link.url)}
      style={{ width: w, height: h, borderRadius: 8, overflow: 'hidden', backgroundColor: palette.surface }}
    >
      {src ? (
        <Image
          source={{ uri: src }}
          style={{ width: w, height: h }}
          resizeMode="cover"
          accessibilityIgnoresInvertColors
        />
      ) : null}
    </Pressable>
  );
}

/** A file as a card: its name and size; pressing opens it. */
export function FileCard({ name, size, onPress }: { name: string; size: number; onPress?: () => void }) {
  const palette = usePalette();
  return (
    <Pressable
      role="button"
      accessibilityLabel={`File ${name}, ${formatBytes(size)}`}
      onPress={onPress}
      style={{
        flexDirection: 'row',
        alignItems: 'center',
        gap: 8,
        padding: 8,
        borderRadius: 8,
        borderWidth: 1,
        borderColor: palette.border,
        backgroundColor: palette.surface,
        alignSelf: 'flex-start',
      }}
    >
      <Text style={{ fontSize: 18 }}>📄</Text>
      <View>
        <Text style={{ color: palette.text, fontWeight: '500' }} numberOfLines={1}>
          {name}
        </Text>
        <Text style={{ color: palette.muted, fontSize: 12 }}>{formatBytes(size)}</Text>
      </View>
    </Pressable>
  );
}

function FileAttachment({ a }: { a: Attachment }) {
  const link = useFileLink(a);
  return <FileCard name={a.name} size={a.size} onPress={() => link && void Linking.openURL(link.url)} />;
}

/** Props of {@link MessageAttachments}. */
export interface MessageAttachmentsProps {
  attachments: readonly Attachment[];
  /** Files of a send still uploading (the message's `uploads`). */
  uploads?: readonly LocalUpload[] | undefined;
}

/** A message's files: pictures for images, cards for the rest, progress bars while uploading. */
export function MessageAttachments({ attachments, uploads }: MessageAttachmentsProps) {
  const palette = usePalette();
  const pending = (uploads ?? []).filter((u) => u.state !== 'done' || !attachments.some((a) => a.id === u.id));
  if (attachments.length === 0 && pending.length === 0) return null;
  return (
    <View style={{ gap: 6, marginTop: 4 }}>
      {attachments.map((a) =>
        a.kind === 'image' ? <ImageAttachment key={a.id} a={a} /> : <FileAttachment key={a.id} a={a} />,
      )}
      {pending.map((u) => (
        <View key={u.id} accessibilityLabel={`Uploading ${u.name}`} style={{ gap: 4, alignSelf: 'flex-start' }}>
          <FileCard name={u.name} size={u.size} />
          <View
            role="progressbar"
            accessibilityValue={{ min: 0, max: 100, now: Math.round(u.progress * 100) }}
            style={{ height: 4, width: 160, backgroundColor: palette.border, borderRadius: 2 }}
          >
            <View
              style={{
                height: 4,
                width: 160 * u.progress,
                backgroundColor: u.state === 'failed' ? palette.danger : palette.accent,
                borderRadius: 2,
              }}
            />
          </View>
        </View>
      ))}
    </View>
  );
}

/** Props of {@link PendingFiles}. */
export interface PendingFilesProps {
  files: readonly UploadFile[];
  onRemove(index: number): void;
}

const fileName = (f: UploadFile) =>
  (f as NativeFile).name || (typeof (f as File).name === 'string' ? (f as File).name : 'file');
const fileSize = (f: UploadFile) => (f as NativeFile).size ?? (f as Blob).size ?? 0;

/** Files picked for the next send, each with a remove button. */
export function PendingFiles({ files, onRemove }: PendingFilesProps) {
  const palette = usePalette();
  if (files.length === 0) return null;
  return (
    <View style={{ flexDirection: 'row', flexWrap: 'wrap', gap: 6, paddingHorizontal: 8, paddingTop: 6 }}>
      {files.map((f, i) => (
        <View
          // biome-ignore lint/suspicious/noArrayIndexKey: the list is the picked files, in order
          key={i}
          style={{ flexDirection: 'row', alignItems: 'center', gap: 4 }}
        >
          <FileCard name={fileName(f)} size={fileSize(f)} />
          <Pressable role="button" accessibilityLabel={`Remove ${fileName(f)}`} onPress={() => onRemove(i)}>
            <Text style={{ color: palette.muted, fontSize: 16, padding: 4 }}>✕</Text>
          </Pressable>
        </View>
      ))}
    </View>
  );
}
