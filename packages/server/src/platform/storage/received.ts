/**
 * A received upload in a temporary file, before it is checked and stored. features/files
 * receives it; images, users (avatars) and accounts (logos) take it: it is named here, below
 * them all.
 */
export interface Received {
  tmp: string;
  size: number;
  sha256: string;
  head: Buffer;
}
