// docs/node.md shows this file; packages/node/test/examples.pg.test.ts runs it against a server.
import { createServer, type Server } from 'node:http';
import { type BeforeSendAnswer, type BeforeSendBody, verifyWebhook, type WebhookBody } from '@parley/node';

/**
 * One HTTP server for both things Parley POSTs: webhook deliveries (`/parley/webhooks`) and the
 * before-send hook (`/parley/before-send`). Each is checked against its own secret over the raw
 * body before anything else is read.
 */
export function receiver(secrets: { webhooks: string; beforeSend: string }, onEvent: (e: WebhookBody) => void): Server {
  return createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const signature = req.headers['x-parley-signature'];
      try {
        if (req.url === '/parley/webhooks') {
          onEvent(verifyWebhook<WebhookBody>(raw, signature, secrets.webhooks));
          res.writeHead(204).end();
        } else if (req.url === '/parley/before-send') {
          const call = verifyWebhook<BeforeSendBody>(raw, signature, secrets.beforeSend);
          const answer: BeforeSendAnswer = /\bpassword\b/i.test(call.message.text)
            ? { action: 'reject', reason: 'Do not post passwords' }
            : { action: 'allow' };
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
        } else {
          res.writeHead(404).end();
        }
      } catch {
        res.writeHead(401).end(); // not from Parley, or replayed
      }
    });
  });
}
