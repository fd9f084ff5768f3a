/** Structured JSON logs (pino), with secrets redacted wherever they might appear. */
import type { LoggerOptions } from 'pino';

export function loggerOptions(level: string, nodeId: string): LoggerOptions {
  return {
    level,
    base: { node: nodeId },
    redact: {
      paths: ['req.headers.authorization', 'req.headers["x-api-key"]', 'api_secret', '*.api_secret', 'token'],
      censor: '[redacted]',
    },
  };
}
