/**
 * `parley backup`, `parley backup --verify` and `parley restore` (platform/backup in the
 * server does the work; docs/backup.md is the operator's page).
 *
 * - backup: through the admin API of the server that owns the data (PGlite: only that process
 *   may open the folder; PostgreSQL: a server answering on --port), streamed into FILE.partial;
 *   with no server, the command opens the data itself. The file is verified before it takes its
 *   name, so a FILE that exists is a complete archive.
 * - restore: into a deployment no server runs on, holding the folder's lock on PGlite.
 */
import { createWriteStream, existsSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Values } from './args.js';
import { CliError, UsageError } from './errors.js';
import { describeOwner } from './owner-lock.js';
import { takeFolder, withData } from './reach.js';
import { cliEnv, settings } from './settings.js';

const note = (line: string) => process.stderr.write(`parley: ${line}\n`);

/** The passphrase from --passphrase-file or PARLEY_BACKUP_PASSPHRASE, if any. */
function passphrase(values: Values): string | undefined {
  const file = values['passphrase-file'];
  let p: string | undefined;
  if (typeof file === 'string') {
    try {
      p = readFileSync(file, 'utf8').replace(/\r?\n$/, '');
    } catch (e) {
      throw new CliError(`cannot read the passphrase file ${file} (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
    }
  } else p = process.env.PARLEY_BACKUP_PASSPHRASE || undefined;
  if (p !== undefined && p.length < 8) throw new UsageError('the backup passphrase must be at least 8 characters');
  return p;
}

const mb = (n: number) => `${(n / 1024 / 1024).toFixed(n < 10 * 1024 * 1024 ? 2 : 1)} MB`;

export async function backup(values: Values): Promise<{ result: unknown; text: string }> {
  if (typeof values.verify === 'string') return verify(values.verify);
  const pass = passphrase(values);
  if (!pass && !values['no-key'])
    throw new UsageError(
      'parley backup needs a passphrase to seal the master key into the archive (PARLEY_BACKUP_PASSPHRASE or ' +
        '--passphrase-file FILE), or --no-key to leave the key out and keep it yourself',
    );
  const out = path.resolve(
    typeof values.out === 'string' ? values.out : `parley-backup-${new Date().toISOString().replace(/[:.]/g, '-')}.tar`,
  );
  if (existsSync(out)) throw new CliError(`${out} exists: choose another --out`);
  const partial = `${out}.partial`;
  const s = settings(values);
  const started = Date.now();
  const file = () => createWriteStream(partial, { mode: 0o600 });
  try {
    await withData<void>(s, 'backup', {
      api: async (api) => {
        note(`backing up through the server at ${api.base}…`);
        await api.download('/v1/admin/backup', pass ? { passphrase: pass } : {}, file());
      },
      direct: async () => {
        const server = await import('@parley/server');
        const cfg = server.configFromEnv(cliEnv(values));
        const key = server.loadMasterKey(cfg.masterKey, cfg.dataDir);
        const database = await server.openDatabase({ url: cfg.databaseUrl, dataDir: cfg.dataDir });
        try {
          await server.runMigrations(database);
          await server.checkMasterKey(database.db, key);
          const { store } = server.createStorage(cfg, key);
          const sink = file();
          await server.createBackup(
            { database, databaseUrl: cfg.databaseUrl, store, masterKey: key, tmpDir: cfg.dataDir },
            sink,
            { passphrase: pass },
          );
        } finally {
          await database.close();
        }
      },
    });
    const { verifyArchive } = await import('@parley/server');
    const { manifest } = await verifyArchive(partial).catch((e: Error) => {
      throw new CliError(`the archive written is not sound: ${e.message}`);
    });
    renameSync(partial, out);
    const bytes = statSync(out).size;
    const seconds = (Date.now() - started) / 1000;
    const result = {
      file: out,
      bytes,
      seconds,
      database: manifest.database.kind,
      objects: manifest.objects.count,
      key_included: manifest.key.included,
      backup_id: manifest.backup_id,
    };
    const text = [
      `backup written to ${out} (${mb(bytes)} in ${seconds.toFixed(1)} s)`,
      `  database: ${manifest.database.kind}, ${manifest.database.migrations} migrations`,
      `  objects:  ${manifest.objects.count} (${mb(manifest.objects.bytes)})`,
      manifest.key.included
        ? '  master key: sealed with your passphrase (restore asks for it)'
        : `  master key: NOT included; keep it apart (fingerprint ${manifest.key.fingerprint})`,
    ].join('\n');
    return { result, text };
  } catch (e) {
    rmSync(partial, { force: true });
    throw e;
  }
}

async function verify(file: string): Promise<{ result: unknown; text: string }> {
  const { verifyArchive, BackupError } = await import('@parley/server');
  try {
    const { manifest } = await verifyArchive(path.resolve(file));
    const result = {
      ok: true,
      backup_id: manifest.backup_id,
      created_at: manifest.created_at,
      parley_version: manifest.parley_version,
      database: manifest.database.kind,
      migrations: manifest.database.migrations,
      objects: manifest.objects.count,
      entries: manifest.entries.length,
      key_included: manifest.key.included,
    };
    return {
      result,
      text:
        `${file}: sound — ${manifest.entries.length} entries match the manifest\n` +
        `  made ${manifest.created_at} by Parley ${manifest.parley_version} (${manifest.database.kind}, ` +
        `${manifest.database.migrations} migrations), ${manifest.objects.count} objects, master key ${manifest.key.included ? 'sealed inside' : 'not included'}`,
    };
  } catch (e) {
    if (e instanceof BackupError) throw new CliError(`${file}: ${e.message}`);
    throw e;
  }
}

export async function restore(values: Values): Promise<{ result: unknown; text: string }> {
  const file = path.resolve(values.file as string);
  const s = settings(values);
  const server = await import('@parley/server');
  const cfg = server.configFromEnv(cliEnv(values));
  const pass = passphrase(values);
  const work = async () => {
    try {
      return await server.restoreBackup(cfg, { file, passphrase: pass, force: !!values.force, note });
    } catch (e) {
      if (e instanceof server.BackupError) throw new CliError(e.message);
      throw e;
    }
  };
  let r: Awaited<ReturnType<typeof work>>;
  if (s.databaseUrl) {
    if (await answers(`http://127.0.0.1:${s.port}`))
      throw new CliError(
        `a server answers on 127.0.0.1:${s.port}: stop every server on this database before restoring`,
      );
    r = await work();
  } else {
    const lock = await takeFolder(
      s,
      { kind: 'command', command: 'restore' },
      (owner) => `${s.dataDir} is in use by ${describeOwner(owner)}: stop it before restoring`,
    );
    try {
      r = await work();
    } finally {
      lock.release();
    }
  }
  const m = r.manifest;
  const result = {
    backup_id: m.backup_id,
    created_at: m.created_at,
    database: r.databaseKind,
    objects: r.objects,
    key: r.key,
    moved_aside: r.movedAside,
  };
  const text = [
    `restored the backup of ${m.created_at} (${r.databaseKind}, ${r.objects} objects)`,
    r.key === 'backup'
      ? cfg.masterKey
        ? '  master key: the backup’s, which PARLEY_MASTER_KEY already holds'
        : `  master key: written to ${path.join(cfg.dataDir, 'master.key')}`
      : '  master key: the one configured (it matches the backup)',
    ...(r.movedAside ? [`  the database it replaced was moved to ${r.movedAside}`] : []),
    'Start the server: clients that reconnect reload their channels from the restored data.',
  ].join('\n');
  return { result, text };
}

async function answers(base: string): Promise<boolean> {
  try {
    const r = await fetch(`${base}/healthz`, { signal: AbortSignal.timeout(800) });
    await r.body?.cancel();
    return r.ok;
  } catch {
    return false;
  }
}
