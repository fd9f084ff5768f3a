/**
 * Direct uploads, with S3 storage: the client asks for a presigned form POST (the policy pins
 * the key, the content type and the exact size), sends the bytes straight to the bucket, then
 * asks the server to complete. Completion reads the object once from the store, as an upload's
 * body would be read, and hands it to `storeUpload`: the same size limits, the type decided from
 * the bytes, the app's rules, EXIF stripped, the quota, thumbnails and durations by the media
 * job. Only then is there a file a message can attach. The incoming object is deleted whatever
 * the outcome, and a job removes it if the client never completes.
 *
 * The pending upload is a token (a JWT under the app's secret, naming the user, channel, name,
 * size and type), not a row: asking costs no write but the expiry job.
 */
import type { Attachment, DirectUpload, DirectUploadBody } from '@parley/protocol';
import { attachmentKindOf, uuidv7 } from '@parley/protocol';
import { and, eq } from 'drizzle-orm';
import { jwtVerify, SignJWT } from 'jose';
import type { Caller } from '../../platform/auth.js';
import { schema } from '../../platform/db/index.js';
import { ApiError, notFound } from '../../platform/errors.js';
import { presignedPost } from '../../platform/lazy-deps.js';
import { S3Store } from '../../platform/storage/index.js';
import type { Services } from '../../services.js';
import { loadChannel } from '../channels/index.js';
import { checkCan } from '../permissions/index.js';
import { checkQuotaRoom, receive, storeUpload } from './actions.js';
import { EXPIRE_DIRECT } from './job-names.js';
import { presentAttachment } from './present.js';
import { checkUploadRules } from './rules.js';

/** How long a presigned upload may be used, and its token completed. */
export const DIRECT_TTL_SECONDS = 15 * 60;
const AUDIENCE = 'parley:direct-upload';

type Me = Caller & { kind: 'user' };
interface Claim {
  id: string;
  cid: string;
  name: string;
  size: number;
  type: string;
}

export const incomingKey = (appId: string, id: string) => `${appId}/${id}.incoming`;

function s3(svc: Services): S3Store {
  const store = svc.storage.store;
  if (!(store instanceof S3Store))
    throw new ApiError('CONFLICT', 'Direct uploads need S3 storage; POST the file to /v1/channels/{cid}/uploads');
  return store;
}

async function channelFor(svc: Services, me: Me, cid: string) {
  const a = await loadChannel(svc.db, me, cid);
  if (!a) throw notFound('Channel');
  checkCan(a, 'upload-file', svc.clock());
  return a;
}

/** `POST /v1/channels/{cid}/uploads/direct` */
export async function createDirectUpload(
  svc: Services,
  me: Me,
  cid: string,
  body: DirectUploadBody,
): Promise<{ upload: DirectUpload }> {
  const store = s3(svc);
  await channelFor(svc, me, cid);
  // What the client says is checked now so it learns at once; what the bytes are, at completion.
  checkUploadRules(svc, me.app, body.type, attachmentKindOf(body.type), body.size);
  await checkQuotaRoom(svc, me.app.id, me.userId, body.size);
  const id = uuidv7();
  const key = incomingKey(me.app.id, id);
  const post = await presignedPost().createPresignedPost(store.client, {
    Bucket: store.opts.bucket,
    Key: `${store.opts.prefix}${key}`,
    Conditions: [
      ['content-length-range', body.size, body.size],
      ['eq', '$Content-Type', body.type],
    ],
    Fields: { 'Content-Type': body.type },
    Expires: DIRECT_TTL_SECONDS,
  });
  const claim: Claim = { id, cid, name: body.name, size: body.size, type: body.type };
  const token = await new SignJWT({ dup: claim })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(me.userId)
    .setAudience(AUDIENCE)
    .setExpirationTime(Math.floor(svc.clock() / 1000) + DIRECT_TTL_SECONDS)
    .sign(me.app.secretKey);
  // Whatever happens next, the incoming object goes once the upload could no longer complete.
  await svc.jobs.enqueue(
    svc.db,
    EXPIRE_DIRECT,
    { appId: me.app.id, fileId: id },
    { startAfterSeconds: DIRECT_TTL_SECONDS + 60 },
  );
  return {
    upload: {
      id,
      url: post.url,
      fields: post.fields,
      token,
      expires_at: new Date(svc.clock() + DIRECT_TTL_SECONDS * 1000).toISOString(),
    },
  };
}

/** `POST /v1/uploads/{id}/complete`: check what arrived in the bucket and make it a file. */
export async function completeDirectUpload(svc: Services, me: Me, id: string, token: string): Promise<Attachment> {
  const store = s3(svc);
  let claim: Claim;
  try {
    const { payload } = await jwtVerify(token, me.app.secretKey, {
      audience: AUDIENCE,
      subject: me.userId,
      currentDate: new Date(svc.clock()),
    });
    claim = payload.dup as Claim;
  } catch {
    throw new ApiError('VALIDATION_ERROR', 'This upload token is not valid (expired, or not yours)');
  }
  if (claim?.id !== id) throw new ApiError('VALIDATION_ERROR', 'This upload token is for another upload');
  // Completed already (a retry): the same attachment.
  const [done] = await svc.db
    .select()
    .from(schema.files)
    .where(and(eq(schema.files.appId, me.app.id), eq(schema.files.id, id)));
  if (done && done.userId === me.userId) return presentAttachment(done);

  const a = await channelFor(svc, me, claim.cid);
  const key = incomingKey(me.app.id, id);
  try {
    let size: number;
    try {
      size = await store.size(key);
    } catch {
      throw notFound('Uploaded object');
    }
    if (size !== claim.size)
      throw new ApiError('VALIDATION_ERROR', `The uploaded object is ${size} bytes, not the ${claim.size} announced`);
    const got = await receive(svc, await store.read(key));
    return await storeUpload(svc, me, a, got, claim.name, claim.type, id);
  } finally {
    await store.remove(key).catch(() => {});
  }
}
