/**
 * Fakes of the outside world for the slash command tests, each a real HTTP server on loopback:
 * a GIF provider in GIPHY's or Tenor's wire format (it checks the query and the API key, and
 * serves the GIFs it lists), and an app that takes commands (see hooks/helpers.ts's receiver).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import sharp from 'sharp';

export interface FakeGifProvider {
  url: string;
  host: string;
  /** Search requests seen (their query parameters). */
  searches: URLSearchParams[];
  /** GIF downloads seen, by path. */
  downloads: string[];
  /** Answer the next searches with this status (e.g. 500) instead of results. */
  failWith: number | null;
  close(): Promise<void>;
}

/** A real animated GIF of one colour (sharp writes it), so the files pipeline takes it as an image. */
export async function gifBytes(r: number, g: number, b: number): Promise<Buffer> {
  // Three frames, light to full colour: an animated GIF, as providers serve.
  const frames = await Promise.all(
    [0.4, 0.7, 1].map((k) =>
      sharp({
        create: {
          width: 240,
          height: 160,
          channels: 3,
          background: { r: Math.round(r * k), g: Math.round(g * k), b: Math.round(b * k) },
        },
      })
        .png()
        .toBuffer(),
    ),
  );
  return sharp(frames, { join: { animated: true } })
    .gif({ delay: [300, 300, 300] })
    .toBuffer();
}

/**
 * A GIF provider. `kind` picks the wire format: GIPHY (`GET /v1/gifs/search?api_key&q&limit&…`
 * → `{data:[{id,title,images:{original:{url,width,height}}}],pagination,meta}`) or Tenor v2
 * (`GET /v2/search?key&q&limit&client_key&…` → `{results:[{id,title,media_formats:{gif:{url,dims}}}],next}`).
 * A wrong key answers 401 (GIPHY) or 400 (Tenor), as they do.
 */
export async function startGifProvider(kind: 'giphy' | 'tenor', apiKey: string): Promise<FakeGifProvider> {
  const colours: [number, number, number][] = [
    [200, 30, 30],
    [30, 200, 30],
    [30, 30, 200],
  ];
  const gifs = await Promise.all(colours.map(([r, g, b]) => gifBytes(r, g, b)));
  const fake: FakeGifProvider = {
    url: '',
    host: '',
    searches: [],
    downloads: [],
    failWith: null,
    close: async () => {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
  const json = (res: http.ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const server = http.createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://x');
    const media = /^\/media\/(\d+)\.gif$/.exec(u.pathname);
    if (media) {
      fake.downloads.push(u.pathname);
      const bytes = gifs[Number(media[1])];
      if (!bytes) return json(res, 404, {});
      res.writeHead(200, { 'content-type': 'image/gif', 'content-length': bytes.length });
      return res.end(bytes);
    }
    const path = kind === 'giphy' ? '/v1/gifs/search' : '/v2/search';
    if (u.pathname !== path || req.method !== 'GET') return json(res, 404, { message: 'Not found' });
    fake.searches.push(u.searchParams);
    const key = u.searchParams.get(kind === 'giphy' ? 'api_key' : 'key');
    if (key !== apiKey)
      return kind === 'giphy'
        ? json(res, 401, { message: 'Unauthorized' })
        : json(res, 400, { error: { code: 400, message: 'API key not valid. Please pass a valid API key.' } });
    const q = u.searchParams.get('q') ?? '';
    const limit = Number(u.searchParams.get('limit'));
    if (!q || !Number.isInteger(limit) || limit < 1 || limit > 50) return json(res, 400, { message: 'bad query' });
    if (fake.failWith) return json(res, fake.failWith, { message: 'down' });
    const found = q === 'nothing' ? [] : colours.map((_, i) => i);
    if (kind === 'giphy') {
      return json(res, 200, {
        data: found.map((i) => ({
          type: 'gif',
          id: `g${i}`,
          url: `https://giphy.com/gifs/g${i}`,
          title: `${q} GIF ${i}`,
          rating: 'g',
          images: {
            original: { url: `${fake.url}/media/${i}.gif`, width: '240', height: '160', size: '100', frames: '3' },
            fixed_height: { url: `${fake.url}/media/${i}.gif`, width: '240', height: '160' },
          },
        })),
        pagination: { total_count: found.length, count: found.length, offset: 0 },
        meta: { status: 200, msg: 'OK', response_id: 'r1' },
      });
    }
    return json(res, 200, {
      results: found.map((i) => ({
        id: `t${i}`,
        title: '',
        content_description: `${q} GIF ${i}`,
        created: 1700000000.5,
        itemurl: `https://tenor.com/view/t${i}`,
        url: `https://tenor.com/t${i}`,
        tags: [q],
        flags: [],
        hasaudio: false,
        media_formats: {
          gif: { url: `${fake.url}/media/${i}.gif`, duration: 0, preview: '', dims: [240, 160], size: 100 },
          tinygif: { url: `${fake.url}/media/${i}.gif`, duration: 0, preview: '', dims: [120, 80], size: 50 },
        },
      })),
      next: found.length ? '3' : '',
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as AddressInfo).port;
  fake.host = `127.0.0.1:${port}`;
  fake.url = `http://127.0.0.1:${port}`;
  return fake;
}
