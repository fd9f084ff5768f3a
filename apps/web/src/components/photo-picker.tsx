/**
 * "Upload photo" / "Remove photo": a picture shown with a file chooser that goes through the
 * square crop step (image-cropper.tsx) before `upload` sends it. Used for your profile photo and
 * for a workspace's logo. The server's refusals (not a picture, too large, over quota) are shown
 * as they come, in words.
 */
import { ParleyError } from '@parley/client';
import { type ReactNode, useId, useRef, useState } from 'react';
import { ImageCropper } from './image-cropper.js';

/** What a refused picture upload means, in the words a person needs. */
export function pictureError(err: unknown): string {
  if (err instanceof ParleyError) {
    if (err.code === 'INVALID_FILE_TYPE')
      return 'That file is not a picture we can use. Choose a JPEG, PNG, WebP or GIF.';
    if (err.code === 'PAYLOAD_TOO_LARGE') return 'That picture is too large (10 MB at most).';
    if (err.code === 'QUOTA_EXCEEDED') return 'There is no storage left for it: remove some files first.';
  }
  return err instanceof Error ? err.message : String(err);
}

export function PhotoPicker({
  picture,
  label,
  cropTitle,
  hasPicture,
  upload,
  remove,
}: {
  /** The current picture (or initials). */
  picture: ReactNode;
  /** "Upload photo", "Upload logo". */
  label: string;
  cropTitle: string;
  hasPicture: boolean;
  /** Send the cropped picture; `onProgress` takes the share sent so far (0–1). */
  upload(square: Blob, onProgress: (share: number) => void): Promise<void>;
  remove(): Promise<void>;
}) {
  const id = useId();
  const input = useRef<HTMLInputElement>(null);
  const [file, setFile] = useState<File | null>(null);
  const [busy, setBusy] = useState(false);
  const [progress, setProgress] = useState<number | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [cropError, setCropError] = useState<string | null>(null);

  const use = async (square: Blob) => {
    setBusy(true);
    setProgress(0);
    setCropError(null);
    try {
      await upload(square, setProgress);
      setFile(null);
    } catch (err) {
      setCropError(pictureError(err));
    } finally {
      setBusy(false);
      setProgress(null);
    }
  };
  const drop = async () => {
    setBusy(true);
    setError(null);
    try {
      await remove();
    } catch (err) {
      setError(pictureError(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="app-photo-row">
      {picture}
      <div className="app-photo-row__actions">
        <input
          ref={input}
          id={`${id}-file`}
          type="file"
          accept="image/png,image/jpeg,image/webp,image/gif,image/avif"
          className="app-visually-hidden-input"
          tabIndex={-1}
          // The button below opens it; assistive technology sees the button alone.
          aria-hidden="true"
          onChange={(e) => {
            const f = e.target.files?.[0] ?? null;
            e.target.value = ''; // the same file again opens the crop again
            setError(null);
            setCropError(null);
            setFile(f);
          }}
        />
        <button type="button" className="app-button" disabled={busy} onClick={() => input.current?.click()}>
          {label}
        </button>
        {hasPicture ? (
          <button type="button" className="app-button app-button--ghost" disabled={busy} onClick={() => void drop()}>
            Remove
          </button>
        ) : null}
        {error ? (
          <p className="app-form__error" role="alert">
            {error}
          </p>
        ) : null}
      </div>
      {file ? (
        <ImageCropper
          file={file}
          title={cropTitle}
          busy={busy}
          progress={progress}
          error={cropError}
          onCancel={() => setFile(null)}
          onCrop={(square) => void use(square)}
        />
      ) : null}
    </div>
  );
}
