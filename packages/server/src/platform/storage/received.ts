/**
 * A received upload in a temporary file, before it is checked and stored. features/files
 * receives it; images (profile pictures and logos) takes it: it is named here, below both.
 */
export interface Received {
  tmp: string;
  size: number;
  sha256: string;
  head: Buffer;
}
