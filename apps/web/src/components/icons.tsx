/** Inline SVG icons (stroke icons on a 20px grid); decorative: buttons carry their own labels. */
import type { ReactNode } from 'react';

function Icon({ children, size = 18 }: { children: ReactNode; size?: number }) {
  return (
    <svg
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

export const PlusIcon = () => (
  <Icon>
    <path d="M10 4v12M4 10h12" />
  </Icon>
);
export const BookmarkIcon = () => (
  <Icon>
    <path d="M5.5 3h9v14l-4.5-3.5L5.5 17z" />
  </Icon>
);
export const FilesIcon = () => (
  <Icon>
    <path d="M6 2.5h5.5L15 6v11.5H6z" />
    <path d="M11.5 2.5V6H15M8.5 10h4M8.5 13h4" />
  </Icon>
);
export const HashIcon = () => (
  <Icon>
    <path d="M8 3 6 17M14 3l-2 14M3.5 7.5h14M2.5 12.5h14" />
  </Icon>
);
export const LockIcon = () => (
  <Icon>
    <rect x="4" y="9" width="12" height="8" rx="2" />
    <path d="M7 9V6.5a3 3 0 0 1 6 0V9" />
  </Icon>
);
export const ComposeIcon = () => (
  <Icon>
    <path d="M11 4H5a1.5 1.5 0 0 0-1.5 1.5v9A1.5 1.5 0 0 0 5 16h9a1.5 1.5 0 0 0 1.5-1.5V9" />
    <path d="M14.5 3.5a1.4 1.4 0 0 1 2 2L10 12l-2.7.7L8 10z" />
  </Icon>
);
export const SearchIcon = () => (
  <Icon>
    <circle cx="9" cy="9" r="5" />
    <path d="m13 13 4 4" />
  </Icon>
);
export const PinIcon = () => (
  <Icon>
    <path d="M12.5 3.5 16.5 7.5 13 9l-3 5-4-4 5-3z" />
    <path d="M7.5 12.5 4 16" />
  </Icon>
);
export const PeopleIcon = () => (
  <Icon>
    <circle cx="8" cy="7" r="3" />
    <path d="M2.5 16.5a5.5 5.5 0 0 1 11 0" />
    <path d="M13 4.3a3 3 0 0 1 0 5.4M15 12a5.5 5.5 0 0 1 2.5 4.5" />
  </Icon>
);
/** A page with lines: notes. */
export const NoteIcon = () => (
  <Icon>
    <path d="M5 2.5h7l3.5 3.5v11.5H5z" />
    <path d="M12 2.5V6h3.5M7.5 10h5M7.5 13h5" />
  </Icon>
);
export const ChevronDownIcon = () => (
  <Icon size={14}>
    <path d="m5 8 5 5 5-5" />
  </Icon>
);
export const CloseIcon = () => (
  <Icon>
    <path d="m5 5 10 10M15 5 5 15" />
  </Icon>
);
export const UserPlusIcon = () => (
  <Icon>
    <circle cx="8" cy="7" r="3" />
    <path d="M2.5 16.5a5.5 5.5 0 0 1 11 0M15.5 6v6M12.5 9h6" />
  </Icon>
);
export const OfficeIcon = () => (
  <Icon>
    <rect x="3" y="3" width="6" height="6" rx="1" />
    <rect x="11" y="3" width="6" height="6" rx="1" />
    <rect x="3" y="11" width="6" height="6" rx="1" />
    <rect x="11" y="11" width="6" height="6" rx="1" />
  </Icon>
);
export const SettingsIcon = () => (
  <Icon>
    <circle cx="10" cy="10" r="2.5" />
    <path d="M10 2.5v2M10 15.5v2M2.5 10h2M15.5 10h2M4.7 4.7l1.4 1.4M13.9 13.9l1.4 1.4M4.7 15.3l1.4-1.4M13.9 6.1l1.4-1.4" />
  </Icon>
);
export const EditIcon = () => (
  <Icon size={14}>
    <path d="M13.5 3.5a1.4 1.4 0 0 1 2 2L7 14l-3 1 1-3z" />
  </Icon>
);
export const MenuIcon = () => (
  <Icon>
    <path d="M3 5.5h14M3 10h14M3 14.5h14" />
  </Icon>
);
export const BackIcon = () => (
  <Icon size={22}>
    <path d="M12.5 4 6.5 10l6 6" />
  </Icon>
);
export const LinkIcon = () => (
  <Icon>
    <path d="M8.5 11.5a3 3 0 0 0 4.2 0l2.6-2.6a3 3 0 0 0-4.2-4.2l-.9.9" />
    <path d="M11.5 8.5a3 3 0 0 0-4.2 0l-2.6 2.6a3 3 0 0 0 4.2 4.2l.9-.9" />
  </Icon>
);

/** The Parley mark: a speech bubble on an indigo tile (as the app icon). */
export function Logo({ size = 32 }: { size?: number }) {
  return (
    <svg width={size} height={size} viewBox="0 0 100 100" aria-hidden="true" focusable="false">
      <defs>
        <linearGradient id="parley-logo" x1="0" y1="0" x2="0" y2="1">
          <stop offset="0" stopColor="#6d4cf0" />
          <stop offset="1" stopColor="#2b2160" />
        </linearGradient>
      </defs>
      <rect width="100" height="100" rx="22" fill="url(#parley-logo)" />
      <rect x="20" y="24" width="60" height="42" rx="13" fill="#fff" />
      <path d="M30 62 L46 62 L27 80 Z" fill="#fff" />
      <g fill="#3a2b86">
        <circle cx="36" cy="45" r="4.7" />
        <circle cx="50" cy="45" r="4.7" />
        <circle cx="64" cy="45" r="4.7" />
      </g>
    </svg>
  );
}
export const PhoneIcon = () => (
  <Icon>
    <path d="M4.5 3.5h3l1.5 4-2 1.2a9 9 0 0 0 4.3 4.3l1.2-2 4 1.5v3a1.5 1.5 0 0 1-1.6 1.5A13.5 13.5 0 0 1 3 5.1 1.5 1.5 0 0 1 4.5 3.5Z" />
  </Icon>
);
export const ActivityIcon = () => (
  <Icon>
    <path d="M5 8a5 5 0 0 1 10 0c0 4 1.5 5.5 2 6H3c.5-.5 2-2 2-6Z" />
    <path d="M8.5 17a1.6 1.6 0 0 0 3 0" />
  </Icon>
);
