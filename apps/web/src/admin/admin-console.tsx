/**
 * The admin console of a workspace (owners and admins): one large dialog with a tab per area
 * (tabs.tsx). Keyboard: the tabs are a WAI-ARIA tablist (arrow keys move between them).
 */
import type { Workspace } from '@parley/protocol';
import { type KeyboardEvent, useEffect, useState } from 'react';
import { Modal } from '../components/modal.js';
import { ADMIN_TABS } from './tabs.js';

export function AdminConsole({
  workspace,
  onClose,
  initialTab = 'members',
  onWorkspaceChange,
}: {
  workspace: Workspace;
  onClose(): void;
  onWorkspaceChange?(workspace: Workspace): void;
  initialTab?: string;
}) {
  const [tab, setTab] = useState(ADMIN_TABS.some((t) => t.id === initialTab) ? initialTab : 'members');
  const active = ADMIN_TABS.find((t) => t.id === tab) ?? ADMIN_TABS[0];
  // On a narrow screen the tab strip scrolls: keep the selected tab in view.
  useEffect(() => {
    document.getElementById(`admin-tab-${tab}`)?.scrollIntoView?.({ block: 'nearest', inline: 'nearest' });
  }, [tab]);
  const onKey = (e: KeyboardEvent) => {
    const i = ADMIN_TABS.findIndex((t) => t.id === tab);
    const step = e.key === 'ArrowRight' ? 1 : e.key === 'ArrowLeft' ? -1 : 0;
    if (!step) return;
    e.preventDefault();
    const next = ADMIN_TABS[(i + step + ADMIN_TABS.length) % ADMIN_TABS.length];
    if (next) {
      setTab(next.id);
      document.getElementById(`admin-tab-${next.id}`)?.focus();
    }
  };
  return (
    <Modal
      title={`Admin console · ${workspace.name}`}
      size="large"
      onClose={onClose}
      footer={
        <button type="button" className="app-button" onClick={onClose}>
          Done
        </button>
      }
    >
      <div className="app-tabs" role="tablist" aria-label="Admin areas" onKeyDown={onKey}>
        {ADMIN_TABS.map((t) => (
          <button
            key={t.id}
            id={`admin-tab-${t.id}`}
            type="button"
            role="tab"
            className="app-tabs__tab"
            aria-selected={t.id === tab}
            aria-controls={`admin-panel-${t.id}`}
            tabIndex={t.id === tab ? 0 : -1}
            onClick={() => setTab(t.id)}
          >
            {t.label}
          </button>
        ))}
      </div>
      {active ? (
        <div
          id={`admin-panel-${active.id}`}
          role="tabpanel"
          aria-labelledby={`admin-tab-${active.id}`}
          className="app-tabs__panel"
          data-testid={`admin-panel-${active.id}`}
        >
          <active.Component workspace={workspace} onWorkspaceChange={onWorkspaceChange} />
        </div>
      ) : null}
    </Modal>
  );
}
