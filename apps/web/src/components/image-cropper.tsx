/**
 * The square crop step before a picture is uploaded (a profile photo, a workspace logo): the
 * picture fills a square frame; drag it (or use the arrow keys) to move it, the slider (or the
 * wheel, or + and -) to zoom. "Use photo" draws the framed square onto a canvas at
 * {@link CROP_OUTPUT} pixels and hands back a PNG; the server then makes its own sizes from it.
 *
 * Done in the browser, so the person sees exactly what others will see, and only the square
 * travels (a phone photo of several MB becomes a few hundred KB). The server still checks the
 * bytes, crops to a square itself and strips any metadata: a client that skips this is safe too.
 */
import { type KeyboardEvent, type PointerEvent, useEffect, useRef, useState } from 'react';
import { Modal } from './modal.js';

/** The side of the frame on screen, in CSS pixels. */
const VIEW = 280;
/** The side of the square that is uploaded (the server's largest size). */
export const CROP_OUTPUT = 512;
const MAX_ZOOM = 4;

interface Frame {
  /** Natural size of the picture. */
  w: number;
  h: number;
  zoom: number;
  /** Top-left of the drawn picture inside the frame (≤ 0: it always covers the frame). */
  x: number;
  y: number;
}

/** Scale from natural pixels to frame pixels at zoom 1: the shorter side fills the frame. */
const baseScale = (f: Pick<Frame, 'w' | 'h'>) => VIEW / Math.min(f.w, f.h);

/** Keep the picture covering the frame: no empty edge may show. */
function clamp(f: Frame): Frame {
  const s = baseScale(f) * f.zoom;
  const minX = VIEW - f.w * s;
  const minY = VIEW - f.h * s;
  return { ...f, x: Math.min(0, Math.max(minX, f.x)), y: Math.min(0, Math.max(minY, f.y)) };
}

/** Zoom to `zoom` around the frame's centre (what stays in the middle stays there). */
function zoomTo(f: Frame, zoom: number): Frame {
  const z = Math.min(MAX_ZOOM, Math.max(1, zoom));
  const ratio = z / f.zoom;
  const c = VIEW / 2;
  return clamp({ ...f, zoom: z, x: c - (c - f.x) * ratio, y: c - (c - f.y) * ratio });
}

/** The square of the natural picture the frame shows: `[sx, sy, side]`. */
export function cropSquare(f: Frame): [number, number, number] {
  const s = baseScale(f) * f.zoom;
  return [-f.x / s, -f.y / s, VIEW / s];
}

export function ImageCropper({
  file,
  title,
  busy = false,
  progress = null,
  error = null,
  onCancel,
  onCrop,
}: {
  file: Blob;
  title: string;
  busy?: boolean;
  /** The upload's progress, 0–1, while it runs (shown as a bar under the picture). */
  progress?: number | null;
  error?: string | null;
  onCancel(): void;
  onCrop(square: Blob): void;
}) {
  const [url, setUrl] = useState<string | null>(null);
  const [frame, setFrame] = useState<Frame | null>(null);
  const [unreadable, setUnreadable] = useState(false);
  const img = useRef<HTMLImageElement | null>(null);
  const drag = useRef<{ id: number; x: number; y: number } | null>(null);

  useEffect(() => {
    const u = URL.createObjectURL(file);
    setUrl(u);
    setFrame(null);
    setUnreadable(false);
    return () => URL.revokeObjectURL(u);
  }, [file]);

  const onLoad = () => {
    const el = img.current;
    if (!el?.naturalWidth || !el.naturalHeight) return setUnreadable(true);
    const w = el.naturalWidth;
    const h = el.naturalHeight;
    const s = baseScale({ w, h });
    // Centred at first, as the server would crop it.
    setFrame({ w, h, zoom: 1, x: (VIEW - w * s) / 2, y: (VIEW - h * s) / 2 });
  };

  const move = (dx: number, dy: number) => setFrame((f) => (f ? clamp({ ...f, x: f.x + dx, y: f.y + dy }) : f));
  const onPointerDown = (e: PointerEvent<HTMLDivElement>) => {
    e.currentTarget.setPointerCapture(e.pointerId);
    drag.current = { id: e.pointerId, x: e.clientX, y: e.clientY };
  };
  const onPointerMove = (e: PointerEvent<HTMLDivElement>) => {
    const d = drag.current;
    if (!d || d.id !== e.pointerId) return;
    move(e.clientX - d.x, e.clientY - d.y);
    drag.current = { id: d.id, x: e.clientX, y: e.clientY };
  };
  const onPointerUp = () => {
    drag.current = null;
  };
  const onKeyDown = (e: KeyboardEvent) => {
    const step = e.shiftKey ? 40 : 8;
    const moves: Record<string, [number, number]> = {
      ArrowLeft: [step, 0],
      ArrowRight: [-step, 0],
      ArrowUp: [0, step],
      ArrowDown: [0, -step],
    };
    const m = moves[e.key];
    if (m) {
      e.preventDefault();
      move(m[0], m[1]);
    } else if (e.key === '+' || e.key === '=' || e.key === '-') {
      e.preventDefault();
      setFrame((f) => (f ? zoomTo(f, f.zoom + (e.key === '-' ? -0.1 : 0.1)) : f));
    }
  };

  const crop = () => {
    const el = img.current;
    if (!el || !frame) return;
    const [sx, sy, side] = cropSquare(frame);
    const out = Math.min(CROP_OUTPUT, Math.round(side));
    const canvas = document.createElement('canvas');
    canvas.width = Math.max(1, out);
    canvas.height = Math.max(1, out);
    const ctx = canvas.getContext('2d');
    if (!ctx) return;
    ctx.imageSmoothingQuality = 'high';
    ctx.drawImage(el, sx, sy, side, side, 0, 0, canvas.width, canvas.height);
    canvas.toBlob((blob) => {
      if (blob) onCrop(blob);
    }, 'image/png');
  };

  const scale = frame ? baseScale(frame) * frame.zoom : 1;
  return (
    <Modal
      title={title}
      subtitle="Drag to move the picture, zoom to frame it. Others see this square."
      size="small"
      onClose={onCancel}
      footer={
        <>
          <button type="button" className="app-button app-button--ghost" onClick={onCancel}>
            Cancel
          </button>
          <button
            type="button"
            className="app-button app-button--primary"
            disabled={!frame || busy}
            onClick={crop}
            data-testid="crop-use"
          >
            {busy ? (progress !== null ? `Uploading… ${Math.round(progress * 100)}%` : 'Uploading…') : 'Use photo'}
          </button>
        </>
      }
    >
      <div className="app-cropper">
        {busy && progress !== null ? (
          <progress
            className="app-cropper__progress"
            aria-label="Upload progress"
            max={1}
            value={progress}
            data-testid="crop-progress"
          />
        ) : null}
        {unreadable ? (
          <p className="app-form__error" role="alert">
            This file is not a picture this browser can show. Choose a JPEG, PNG, WebP or GIF.
          </p>
        ) : (
          // A drag surface of its own (pointer and keys): role application, focusable.
          <div
            className="app-cropper__frame"
            style={{ width: VIEW, height: VIEW }}
            role="application"
            // biome-ignore lint/a11y/noNoninteractiveTabindex: the arrow keys and + / - move and zoom the picture
            tabIndex={0}
            aria-label="Crop area: drag or use the arrow keys to move the picture, + and - to zoom"
            data-testid="crop-frame"
            onPointerDown={onPointerDown}
            onPointerMove={onPointerMove}
            onPointerUp={onPointerUp}
            onPointerCancel={onPointerUp}
            onWheel={(e) => setFrame((f) => (f ? zoomTo(f, f.zoom * (e.deltaY < 0 ? 1.08 : 1 / 1.08)) : f))}
            onKeyDown={onKeyDown}
          >
            {url ? (
              <img
                ref={img}
                src={url}
                alt=""
                draggable={false}
                onLoad={onLoad}
                onError={() => setUnreadable(true)}
                className="app-cropper__image"
                style={
                  frame
                    ? {
                        width: frame.w * scale,
                        height: frame.h * scale,
                        transform: `translate(${frame.x}px, ${frame.y}px)`,
                      }
                    : { visibility: 'hidden' }
                }
              />
            ) : null}
            <span className="app-cropper__ring" aria-hidden="true" />
          </div>
        )}
        <label className="app-cropper__zoom">
          <span>Zoom</span>
          <input
            type="range"
            min={1}
            max={MAX_ZOOM}
            step={0.01}
            value={frame?.zoom ?? 1}
            disabled={!frame}
            onChange={(e) => setFrame((f) => (f ? zoomTo(f, Number(e.target.value)) : f))}
          />
        </label>
        {error ? (
          <p className="app-form__error" role="alert">
            {error}
          </p>
        ) : null}
      </div>
    </Modal>
  );
}
