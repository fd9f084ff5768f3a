/**
 * The kit's icons, drawn inline rather than written as emoji: on a machine without a colour
 * emoji font (many Linux desktops, headless Chromium in CI) ⏰ 🔖 📌 🗑 🔒 showed as empty
 * boxes. Stroke icons on a 20px grid, as the web app's own (apps/web/src/components/icons.tsx),
 * so the two sit side by side. Decorative: every button carries its own label. Symbols that
 * ordinary text fonts (DejaVu, Liberation) have — ↩ ✎ ⚑ ❝ ☺ ★ # — stay text.
 *
 * Internal to the kit: the web app draws its own.
 */
import type { ReactNode } from 'react';

interface IconProps {
  /** Width and height in pixels. */
  size?: number;
  /** Drawn solid: the state a pressed toggle (saved, pinned) shows. */
  filled?: boolean;
}

function Icon({ children, size = 16 }: { children: ReactNode; size?: number | undefined }) {
  return (
    <svg
      className="parley-icon"
      width={size}
      height={size}
      viewBox="0 0 20 20"
      fill="none"
      stroke="currentColor"
      strokeWidth="1.7"
      strokeLinecap="round"
      strokeLinejoin="round"
      aria-hidden="true"
      focusable="false"
    >
      {children}
    </svg>
  );
}

/** Two sheets: copy. */
export const CopyIcon = ({ size }: IconProps) => (
  <Icon size={size}>
    <rect x="7" y="7" width="10" height="10" rx="1.5" />
    <path d="M13 7V4.5A1.5 1.5 0 0 0 11.5 3h-7A1.5 1.5 0 0 0 3 4.5v7A1.5 1.5 0 0 0 4.5 13H7" />
  </Icon>
);

/** An alarm clock: remind me. */
export const AlarmIcon = ({ size }: IconProps) => (
  <Icon size={size}>
    <circle cx="10" cy="11" r="6" />
    <path d="M10 8v3l2 1.5M3 5.5 5.5 3M17 5.5 14.5 3" />
  </Icon>
);

/** A bookmark: save (filled once saved). */
export const BookmarkIcon = ({ size, filled }: IconProps) => (
  <Icon size={size}>
    <path d="M5.5 3h9v14l-4.5-3.5L5.5 17z" fill={filled ? 'currentColor' : 'none'} />
  </Icon>
);

/** A push pin, leaning: pin (its head filled once pinned). */
export const PinIcon = ({ size, filled }: IconProps) => (
  <Icon size={size}>
    <path d="M12.5 3.5 16.5 7.5 13 9l-3 5-4-4 5-3z" fill={filled ? 'currentColor' : 'none'} />
    <path d="M7.5 12.5 4 16" />
  </Icon>
);

/** A bin with a lid: delete. */
export const TrashIcon = ({ size }: IconProps) => (
  <Icon size={size}>
    <path d="M3.5 5.5h13M8 5.5V4a1 1 0 0 1 1-1h2a1 1 0 0 1 1 1v1.5" />
    <path d="m5 5.5.8 10.6a1.5 1.5 0 0 0 1.5 1.4h5.4a1.5 1.5 0 0 0 1.5-1.4L15 5.5M8.5 9v5M11.5 9v5" />
  </Icon>
);

/** A padlock: a private channel. */
export const LockIcon = ({ size }: IconProps) => (
  <Icon size={size}>
    <rect x="4" y="9" width="12" height="8" rx="2" />
    <path d="M7 9V6.5a3 3 0 0 1 6 0V9" />
  </Icon>
);

/** A page with a folded corner: a file. */
export const FileIcon = ({ size }: IconProps) => (
  <Icon size={size}>
    <path d="M5 2.5h7l3.5 3.5v11.5H5z" />
    <path d="M12 2.5V6h3.5" />
  </Icon>
);

/** A video camera: a video file. */
export const VideoIcon = ({ size }: IconProps) => (
  <Icon size={size}>
    <rect x="2.5" y="5.5" width="10.5" height="9" rx="1.5" />
    <path d="m13 9 4.5-2.5v7L13 11" />
  </Icon>
);

/** Two beamed notes: an audio file. */
export const MusicIcon = ({ size }: IconProps) => (
  <Icon size={size}>
    <path d="M7.5 15V4.5l9-1.5V13" />
    <circle cx="5.5" cy="15" r="2" />
    <circle cx="14.5" cy="13" r="2" />
  </Icon>
);
