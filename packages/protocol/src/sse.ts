/**
 * A parser of `text/event-stream` (the fallback transport's stream down), small enough to need
 * no package and the same in browsers and Node (which has no EventSource): fed the decoded text
 * of a fetch() body as it arrives, in chunks cut anywhere, it returns the events completed.
 * What the transport uses of the format only: `data:` lines (joined with `\n`), `event:`,
 * comments (`:` lines, the heartbeats: skipped), `\n`, `\r\n` or `\r` line ends.
 */

/** One event of a stream: its `event:` name ('message' when it had none) and its data. */
export interface SseEvent {
  event: string;
  data: string;
}

export class SseParser {
  private buffer = '';
  private data: string[] = [];
  private event = '';
  /** Whether the last chunk ended in `\r`, whose `\n` may start the next chunk. */
  private afterCr = false;

  /** The events that `chunk` completes, in order. */
  feed(chunk: string): SseEvent[] {
    let text = chunk;
    if (this.afterCr && text.startsWith('\n')) text = text.slice(1);
    this.afterCr = text.endsWith('\r');
    this.buffer += text;
    const out: SseEvent[] = [];
    const lines = this.buffer.split(/\r\n|\r|\n/);
    this.buffer = lines.pop() ?? '';
    for (const line of lines) {
      if (line === '') {
        if (this.data.length > 0) out.push({ event: this.event || 'message', data: this.data.join('\n') });
        this.data = [];
        this.event = '';
        continue;
      }
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      let value = colon < 0 ? '' : line.slice(colon + 1);
      if (value.startsWith(' ')) value = value.slice(1);
      if (field === 'data') this.data.push(value);
      else if (field === 'event') this.event = value;
    }
    return out;
  }
}
