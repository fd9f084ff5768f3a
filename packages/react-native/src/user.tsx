/** Avatars: the user's picture, or initials on a colour of their id. */
import type { User } from '@parley/protocol';
import { useState } from 'react';
import { Image, Text, View } from 'react-native';
import { displayName, initials } from './format.js';

/** Props of {@link Avatar}. */
export interface AvatarProps {
  user: User | undefined;
  /** Shown (as initials) when the user is not known. */
  id: string;
  size?: number;
}

const HUES = [210, 260, 330, 20, 45, 150, 180];

function hueOf(id: string): number {
  let h = 0;
  for (let i = 0; i < id.length; i++) h = (h * 31 + id.charCodeAt(i)) >>> 0;
  return HUES[h % HUES.length] as number;
}

/** A round picture of a user, or their initials (also when the picture fails to load). */
export function Avatar({ user, id, size = 32 }: AvatarProps) {
  const name = displayName(user, id);
  const round = { width: size, height: size, borderRadius: size / 2 };
  const [failed, setFailed] = useState<string | null>(null);
  const image = user?.image;
  if (image && failed !== image)
    return (
      <Image
        source={{ uri: image }}
        style={round}
        accessibilityLabel={name}
        accessibilityIgnoresInvertColors
        onError={() => setFailed(image)}
      />
    );
  return (
    <View
      style={[
        round,
        { backgroundColor: `hsl(${hueOf(id)}, 55%, 45%)`, alignItems: 'center', justifyContent: 'center' },
      ]}
      accessibilityLabel={name}
    >
      <Text style={{ color: '#fff', fontSize: size * 0.4, fontWeight: '600' }}>{initials(name)}</Text>
    </View>
  );
}
