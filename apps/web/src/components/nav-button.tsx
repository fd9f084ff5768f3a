/**
 * The leading button of a page's header. On a phone it is the way back to the pane before (the
 * sidebar from a conversation); on a narrow tablet, where the sidebar can be folded away, it
 * opens the sidebar; on a desktop the sidebar is always there and the button is hidden (CSS).
 */
import { usePhoneLayout } from '../lib/layout.js';
import { BackIcon, MenuIcon } from './icons.js';

export function NavButton({ onClick }: { onClick(): void }) {
  const phone = usePhoneLayout();
  return phone ? (
    <button type="button" className="app-icon-button app-back-button" aria-label="Back" onClick={onClick}>
      <BackIcon />
    </button>
  ) : (
    <button type="button" className="app-icon-button app-nav-toggle" aria-label="Open sidebar" onClick={onClick}>
      <MenuIcon />
    </button>
  );
}
