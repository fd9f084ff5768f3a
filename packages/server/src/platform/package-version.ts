/**
 * Versions: an installed dependency's, read from its package.json (the nearest one above its
 * entry point that names it; what the database templates are keyed by), and this server's own.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export function installedVersion(name: string): string {
  const entry = createRequire(import.meta.url).resolve(name);
  for (let dir = path.dirname(entry); dir !== path.dirname(dir); dir = path.dirname(dir)) {
    const file = path.join(dir, 'package.json');
    if (!existsSync(file)) continue;
    const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
    if (pkg.name === name && pkg.version) return pkg.version;
  }
  return 'unknown';
}

/** This server's own version: its package.json's, found above this file from src/ or dist/. */
function ownVersion(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (; dir !== path.dirname(dir); dir = path.dirname(dir)) {
    const file = path.join(dir, 'package.json');
    if (!existsSync(file)) continue;
    const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
    if (pkg.name === '@parley/server' && pkg.version) return pkg.version;
  }
  return 'unknown';
}

/** The version of Parley this server is (`@parley/server`'s), as /healthz and the node list show it. */
export const PARLEY_VERSION = ownVersion();
