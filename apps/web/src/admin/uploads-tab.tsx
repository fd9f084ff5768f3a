/**
 * The admin console's Uploads tab: which types of file people may share (read from the files'
 * bytes by the server) and how large each kind may be, below the server's own limit. Empty
 * fields mean "no rule". Saved with `client.files.setRules` (app admins).
 */
import type { UploadRules } from '@parley/protocol';
import { formatBytes, useChatClient } from '@parley/react';
import { useCallback, useEffect, useState } from 'react';

const KINDS = [
  ['image', 'Images'],
  ['video', 'Videos'],
  ['audio', 'Audio'],
  ['file', 'Other files'],
] as const;
type Kind = (typeof KINDS)[number][0];

const MB = 1024 * 1024;
const message = (e: unknown) => (e instanceof Error ? e.message : String(e));
/** Megabytes as a person types them (`25`, `0.5`), or null for none. */
const toBytes = (mb: string): number | null => {
  const n = Number(mb.trim().replace(',', '.'));
  return mb.trim() && Number.isFinite(n) && n > 0 ? Math.max(1, Math.round(n * MB)) : null;
};
const toMb = (bytes: number | null | undefined) => (bytes ? String(Math.round((bytes / MB) * 100) / 100) : '');

export function UploadsTab() {
  const client = useChatClient();
  const [serverMax, setServerMax] = useState<number | null>(null);
  const [types, setTypes] = useState('');
  const [sizes, setSizes] = useState<Record<Kind, string>>({ image: '', video: '', audio: '', file: '' });
  const [error, setError] = useState<string | null>(null);
  const [saved, setSaved] = useState(false);

  const show = useCallback((r: { rules: UploadRules; server_max_bytes: number }) => {
    setServerMax(r.server_max_bytes);
    setTypes((r.rules.allowed_types ?? []).join('\n'));
    setSizes({
      image: toMb(r.rules.max_bytes.image),
      video: toMb(r.rules.max_bytes.video),
      audio: toMb(r.rules.max_bytes.audio),
      file: toMb(r.rules.max_bytes.file),
    });
  }, []);
  useEffect(() => {
    client.files.rules(true).then(show, (e: unknown) => setError(message(e)));
  }, [client, show]);

  const save = () => {
    setError(null);
    setSaved(false);
    const list = types
      .split(/[\n,]/)
      .map((t) => t.trim().toLowerCase())
      .filter(Boolean);
    const badSize = KINDS.find(([k]) => sizes[k].trim() && toBytes(sizes[k]) === null);
    if (badSize) return setError(`${badSize[1]}: give a size in MB above 0, or leave it empty.`);
    const max_bytes = Object.fromEntries(KINDS.map(([k]) => [k, toBytes(sizes[k])])) as UploadRules['max_bytes'];
    client.files.setRules({ allowed_types: list.length ? [...new Set(list)] : null, max_bytes }).then(
      (r) => {
        show(r);
        setSaved(true);
      },
      (e: unknown) => setError(message(e)),
    );
  };

  return (
    <form
      className="app-form"
      data-testid="upload-rules"
      onSubmit={(e) => {
        e.preventDefault();
        save();
      }}
    >
      {error ? (
        <p className="app-form__error" role="alert">
          {error}
        </p>
      ) : null}
      <p className="app-muted">
        The server reads each file's type from its bytes, whatever its name says.
        {serverMax ? ` No file may be larger than ${formatBytes(serverMax)} on this server.` : ''}
      </p>
      <label className="app-field">
        <span className="app-field__label">Allowed types (one a line)</span>
        <textarea
          className="app-input"
          rows={4}
          value={types}
          placeholder={'image/*\napplication/pdf'}
          onChange={(e) => setTypes(e.target.value)}
        />
        <span className="app-field__hint">
          A type (application/pdf) or a family (image/*, video/*). Empty: every type is allowed.
        </span>
      </label>
      <fieldset className="app-fieldset">
        <legend className="app-field__label">Largest file of each kind, in MB (empty: the server's limit)</legend>
        <div className="app-row">
          {KINDS.map(([k, label]) => (
            <label key={k} className="app-field">
              <span className="app-field__label">{label}</span>
              <input
                className="app-input"
                inputMode="decimal"
                value={sizes[k]}
                placeholder={serverMax ? toMb(serverMax) : ''}
                onChange={(e) => setSizes({ ...sizes, [k]: e.target.value })}
              />
            </label>
          ))}
        </div>
      </fieldset>
      <div className="app-row app-row--end">
        {saved ? <span className="app-muted">Saved.</span> : null}
        <button type="submit" className="app-button app-button--primary">
          Save upload rules
        </button>
      </div>
    </form>
  );
}
