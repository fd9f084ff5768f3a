/**
 * Video and audio: the duration, and for video a poster frame, read with Debian's `ffprobe`
 * and `ffmpeg` when they are installed. Without them (or when they fail or take too long)
 * there is simply no duration and no poster: uploads never depend on them.
 */
import { execFile } from 'node:child_process';

const TIMEOUT_MS = 20_000;

function run(cmd: string, args: string[], binary: boolean): Promise<Buffer | string | null> {
  return new Promise((resolve) => {
    execFile(
      cmd,
      args,
      { timeout: TIMEOUT_MS, maxBuffer: 32 * 1024 * 1024, encoding: binary ? 'buffer' : 'utf8' },
      (err, stdout) => resolve(err ? null : stdout),
    );
  });
}

/** Duration in ms, or null (no ffprobe, or not a stream it reads). */
export async function probeDuration(file: string): Promise<number | null> {
  const out = await run(
    'ffprobe',
    ['-v', 'error', '-show_entries', 'format=duration', '-of', 'default=noprint_wrappers=1:nokey=1', file],
    false,
  );
  const seconds = Number.parseFloat(String(out ?? ''));
  return Number.isFinite(seconds) && seconds >= 0 ? Math.round(seconds * 1000) : null;
}

/** A PNG of the frame a second in (or the first, for shorter videos), or null. */
export async function posterFrame(file: string, durationMs: number | null): Promise<Buffer | null> {
  const at = durationMs !== null && durationMs < 2000 ? '0' : '1';
  const out = await run(
    'ffmpeg',
    ['-v', 'error', '-ss', at, '-i', file, '-frames:v', '1', '-f', 'image2pipe', '-vcodec', 'png', '-'],
    true,
  );
  return out && (out as Buffer).length > 0 ? (out as Buffer) : null;
}
