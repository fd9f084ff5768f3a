/**
 * A fake OpenAI-compatible provider for the assistant's tests: a real HTTP server on loopback
 * answering `POST …/chat/completions` as llama.cpp's server, vLLM or Ollama would — streamed
 * (`data:` chunks, a last chunk with `usage`, `data: [DONE]`) or whole — and recording every
 * request, so a test can read exactly what the prompts held. Tests decide each answer
 * (`answer`): text, an HTTP error, garbage, a stream cut short, or no answer at all.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ProviderRequest {
  path: string;
  headers: http.IncomingHttpHeaders;
  body: any;
  /** Every message's content, joined: what the model was shown. */
  prompt: string;
  stream: boolean;
}

/** What the fake answers one request with. */
export type ProviderAnswer =
  | { text: string; usage?: { prompt_tokens: number; completion_tokens: number }; pieces?: string[] }
  | { status: number; body: string }
  /** 200 with this body as is (streamed requests: as the whole stream). */
  | { garbage: string }
  /** A stream that stops after its first piece, without `[DONE]`. */
  | { cut: string }
  | 'hang';

export interface FakeProvider {
  /** The base URL to configure (`…/v1`). */
  url: string;
  /** `127.0.0.1:port`, for the outbound allow-list. */
  host: string;
  got: ProviderRequest[];
  answer: (r: ProviderRequest) => ProviderAnswer;
  close(): Promise<void>;
}

export async function startFakeProvider(): Promise<FakeProvider> {
  const fake: FakeProvider = {
    url: '',
    host: '',
    got: [],
    answer: () => ({ text: 'ok' }),
    close: async () => {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      let body: any = null;
      try {
        body = JSON.parse(raw);
      } catch {
        // recorded as null
      }
      const messages: { content?: string }[] = Array.isArray(body?.messages) ? body.messages : [];
      const r: ProviderRequest = {
        path: req.url ?? '',
        headers: req.headers,
        body,
        prompt: messages.map((m) => m.content ?? '').join('\n'),
        stream: body?.stream === true,
      };
      fake.got.push(r);
      const a = fake.answer(r);
      if (a === 'hang') return;
      if ('status' in a) {
        res.writeHead(a.status, { 'content-type': 'application/json' }).end(a.body);
        return;
      }
      if ('garbage' in a) {
        res.writeHead(200, { 'content-type': r.stream ? 'text/event-stream' : 'application/json' }).end(a.garbage);
        return;
      }
      const model = body?.model ?? 'fake';
      if ('cut' in a) {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.end(`data: ${JSON.stringify({ choices: [{ delta: { content: a.cut } }] })}\n\n`);
        return;
      }
      const usage = a.usage ?? { prompt_tokens: Math.ceil(r.prompt.length / 4), completion_tokens: 7 };
      if (!r.stream) {
        res.writeHead(200, { 'content-type': 'application/json' }).end(
          JSON.stringify({
            id: 'chatcmpl-fake',
            object: 'chat.completion',
            model,
            choices: [{ index: 0, message: { role: 'assistant', content: a.text }, finish_reason: 'stop' }],
            usage: { ...usage, total_tokens: usage.prompt_tokens + usage.completion_tokens },
          }),
        );
        return;
      }
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const pieces = a.pieces ?? a.text.match(/.{1,12}/gs) ?? [];
      for (const p of pieces)
        res.write(
          `data: ${JSON.stringify({ object: 'chat.completion.chunk', model, choices: [{ index: 0, delta: { content: p } }] })}\n\n`,
        );
      const last = { object: 'chat.completion.chunk', model, choices: [], usage };
      if (body?.stream_options?.include_usage) res.write(`data: ${JSON.stringify(last)}\n\n`);
      res.end('data: [DONE]\n\n');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  fake.host = `127.0.0.1:${port}`;
  fake.url = `http://${fake.host}/v1`;
  return fake;
}
