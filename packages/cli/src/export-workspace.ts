/**
 * `parley export <workspace.zip> --workspace ID`: a workspace in Parley's own format
 * (docs/moving.md), for `parley import parley` on this or another deployment. Through the admin
 * API of the server that owns the data (`POST /v1/admin/exports/parley`), or, with no server,
 * by opening the data itself; written to FILE.partial and read back (every entry within the
 * import's limits, the manifest parsed) before it takes its name, so a FILE that exists is whole.
 */
import { createWriteStream, existsSync, renameSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import type { WorkspaceExport } from '@parley/protocol';
import type { Values } from './args.js';
import { CliError } from './errors.js';
import { ApiError, withData } from './reach.js';
import { cliEnv, settings } from './settings.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** How often the export's progress is asked for. */
const POLL_MS = 250;
const note = (line: string) => process.stderr.write(`parley: ${line}\n`);

export async function exportWorkspaceCommand(values: Values): Promise<{ result: unknown; text: string }> {
  const workspace = values.workspace as string;
  const noWorkspace = () => new CliError(`no workspace with id ${workspace}`);
  if (!UUID.test(workspace)) throw noWorkspace();
  const out = path.resolve(values.file as string);
  if (existsSync(out)) throw new CliError(`${out} exists: choose another file`);
  const partial = `${out}.partial`;
  const server = await import('@parley/server');
  try {
    await withData<void>(settings(values), 'export', {
      api: async (api) => {
        note(`exporting through the server at ${api.base}…`);
        // The server's job makes it; its progress is polled, then the archive downloaded.
        type Made = { export: WorkspaceExport };
        let e = (
          await api.call<Made>('POST', '/v1/admin/exports/parley', { workspace }).catch((err: unknown) => {
            throw err instanceof ApiError && err.status === 404 ? noWorkspace() : err;
          })
        ).export;
        let shown = '';
        while (e.status === 'pending') {
          await new Promise((r) => setTimeout(r, POLL_MS));
          e = (await api.call<Made>('GET', `/v1/admin/exports/parley/${e.id}`)).export;
          const line = `${e.progress.done}/${e.progress.total} ${e.progress.step ?? 'waiting for the job'}`;
          if (line !== shown) note(line);
          shown = line;
        }
        if (e.status === 'failed') throw new CliError(`the export failed on the server: ${e.error ?? 'see its log'}`);
        await api.download(
          `/v1/admin/exports/parley/${e.id}/download`,
          null,
          createWriteStream(partial, { mode: 0o600 }),
        );
      },
      direct: async () => {
        const cfg = server.configFromEnv(cliEnv(values));
        const { store } = server.createStorage(cfg, server.loadMasterKey(cfg.masterKey, cfg.dataDir));
        const database = await server.openDatabase({ url: cfg.databaseUrl, dataDir: cfg.dataDir });
        try {
          await server.runMigrations(database);
          await server.exportWorkspace(database, store, workspace, partial, {
            onProgress: (done, total, kind) => note(`${done}/${total} ${kind}`),
          });
        } catch (e) {
          if (e instanceof server.ImportInputError) throw noWorkspace();
          throw e;
        } finally {
          await database.close();
        }
      },
    });
    // Read back as an import reads it: a file that takes its name is one `import parley` opens.
    const archive = await server.openExportZip(partial).catch((e: Error) => {
      throw new CliError(`the archive written is not sound: ${e.message}`);
    });
    const raw = archive.files.get('manifest.json');
    await archive.close();
    if (!raw || archive.problems.length > 0) throw new CliError('the archive written is not sound: no manifest');
    const manifest = JSON.parse(Buffer.from(raw).toString('utf8')) as {
      version: number;
      workspace: { id: string; name: string };
      counts: Record<string, number>;
    };
    renameSync(partial, out);
    const bytes = statSync(out).size;
    const result = {
      file: out,
      bytes,
      version: manifest.version,
      workspace: manifest.workspace,
      counts: manifest.counts,
    };
    const text = [
      `workspace "${manifest.workspace.name}" exported to ${out} (${bytes} bytes, format version ${manifest.version})`,
      ...Object.entries(manifest.counts).map(([k, n]) => `  ${k}: ${n}`),
      `load it with: parley import parley ${path.basename(out)} --workspace WORKSPACE_ID`,
    ].join('\n');
    return { result, text };
  } catch (e) {
    rmSync(partial, { force: true });
    throw e;
  }
}
