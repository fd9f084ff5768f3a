/**
 * @parley/node: Parley's server SDK, for the backend beside a Parley app. See docs/node.md.
 */
export { isParleyError, ParleyError } from './errors.js';
export { type As, Paged, Parley, type ParleyOptions, type TokenOptions } from './parley.js';
export {
  type BeforeSendAnswer,
  type BeforeSendBody,
  DEFAULT_TOLERANCE_SECONDS,
  isValidWebhook,
  SIGNATURE_HEADER,
  signWebhook,
  type VerifyFailure,
  verifyWebhook,
  type WebhookBody,
  WebhookVerificationError,
} from './webhooks.js';
