/**
 * Profile pictures through the SDK: `profiles.setAvatar` uploads (PUT, multipart), and the new
 * `image` reaches a channel partner's `state.users` live by `user.updated`, as does its removal;
 * the server's refusals arrive as typed errors.
 */
import { imageUrlAt } from '@parley/protocol';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { testbed, until } from './setup.js';

const bed = testbed([
  { id: 'alice', name: 'Alice' },
  { id: 'bob', name: 'Bob' },
]);

describe('profile pictures in the SDK', () => {
  it("changes a channel partner's image in state live, and back to none on removal", async () => {
    const alice = await bed.connect('alice');
    const bob = await bed.connect('bob');
    await alice.channel('group', 'pics').createChannel({ members: ['bob'], name: 'Pics' });
    expect((await bob.profiles.get('alice')).image).toBeNull();
    expect(bob.state.get().users.alice?.image).toBeNull();

    const png = await sharp({ create: { width: 300, height: 300, channels: 3, background: '#3366cc' } })
      .png()
      .toBuffer();
    const { user, image } = await alice.profiles.setAvatar(new Blob([new Uint8Array(png)], { type: 'image/png' }));
    expect(user.image).toBe(image.url);
    expect(image.sizes).toEqual([48, 96, 192]);
    // Her own state follows at once; Bob's by the event.
    expect(alice.state.get().user?.image).toBe(image.url);
    await until(() => bob.state.get().users.alice?.image === image.url, 5000, 'bob sees the picture');

    // The URL serves the size a client asks for.
    const small = await fetch(imageUrlAt(image.url, 40));
    expect(small.headers.get('content-type')).toBe('image/webp');
    expect((await sharp(Buffer.from(await small.arrayBuffer())).metadata()).width).toBe(48);

    await alice.profiles.removeAvatar();
    expect(alice.state.get().user?.image ?? null).toBeNull();
    await until(() => bob.state.get().users.alice?.image === null, 5000, 'bob sees the initials again');
  });

  it('refuses what is not a picture with a typed error, and changes nothing', async () => {
    const alice = await bed.connect('alice');
    await expect(
      alice.profiles.setAvatar(
        new Blob([new TextEncoder().encode('plain text, not a picture')], { type: 'image/png' }),
      ),
    ).rejects.toMatchObject({ code: 'INVALID_FILE_TYPE' });
    expect(alice.state.get().user?.image ?? null).toBeNull();
  });
});
