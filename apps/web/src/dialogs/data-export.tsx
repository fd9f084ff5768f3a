/**
 * "Export my data" in Preferences: asks the server for an archive of the user's profile,
 * messages, reactions and uploads list in this workspace, waits for `export.ready` (the job
 * that makes it can take a while; the dialog may be closed meanwhile), then offers the signed
 * download link. The last export is shown on open while it can still be downloaded.
 */
import type { DataExport } from '@parley/protocol';
import { useChatClient, useClientState } from '@parley/react';
import { useEffect, useState } from 'react';

export function DataExportSettings() {
  const client = useChatClient();
  const me = useClientState((s) => s.user?.id ?? null);
  const [current, setCurrent] = useState<DataExport | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    if (!me) return;
    let live = true;
    client.admin
      .listExports(me)
      .then((list) => live && setCurrent(list[0] ?? null))
      .catch(() => {});
    const off = client.on('export.ready', (e) => {
      if (live) setCurrent(e.export);
    });
    return () => {
      live = false;
      off();
    };
  }, [client, me]);

  const ask = async () => {
    setError(null);
    try {
      setCurrent(await client.requestDataExport());
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  };
  const url = current ? client.admin.downloadUrl(current) : null;
  return (
    <div className="app-settings__section">
      <div>
        <h3 className="app-section-title">Your data</h3>
        <p className="app-field__hint">
          An archive of your profile, messages, reactions and the list of your uploads in this workspace.
        </p>
        {current?.status === 'pending' ? <p className="app-muted">Preparing your archive…</p> : null}
        {current?.status === 'failed' ? <p className="app-form__error">The export failed: try again.</p> : null}
        {url ? (
          <p>
            <a href={url} download data-testid="data-export-link">
              Download your archive
            </a>{' '}
            <span className="app-muted">
              (until {current?.expires_at ? new Date(current.expires_at).toLocaleString() : 'it expires'})
            </span>
          </p>
        ) : null}
        {error ? (
          <p className="app-form__error" role="alert">
            {error}
          </p>
        ) : null}
      </div>
      <button type="button" className="app-button" disabled={current?.status === 'pending'} onClick={() => void ask()}>
        Export my data
      </button>
    </div>
  );
}
