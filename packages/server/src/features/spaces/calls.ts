/**
 * A space is `in_meeting` while its room has a live call: the calls feature says when a
 * channel's call started or ended, and a space's room settles its status (and announces it).
 */
import { onCallLiveChange } from '../calls/index.js';
import { spaceOfRoom } from '../channels/index.js';
import { refreshSpaceOfRoom } from './moves.js';

onCallLiveChange(async (svc, appId, cid) => {
  const spaceId = spaceOfRoom(cid);
  if (spaceId) await refreshSpaceOfRoom(svc, appId, spaceId);
});
