/**
 * The signed-in layout of one workspace: sidebar, the open conversation, and the dialogs.
 * The URL names the conversation (`/w/<workspace>/c/<cid>`), so links, reloads and the back
 * button work.
 */
import { keepLoading } from '@parley/client';
import { parseCid, type Workspace } from '@parley/protocol';
import {
  CallView,
  IncomingCallToast,
  useCalls,
  useChannelState,
  useChannelTitle,
  useChatClient,
  useClientState,
} from '@parley/react';
import { useCallback, useEffect, useMemo, useState } from 'react';
import { AdminConsole } from '../admin/admin-console.js';
import { EmojiDialog } from '../admin/emoji-tab.js';
import { CallsDialog } from '../dialogs/calls-dialog.js';
import { ChannelBrowser } from '../dialogs/channel-browser.js';
import { InviteDialog } from '../dialogs/invite-dialog.js';
import { LaterDialog } from '../dialogs/later-dialog.js';
import { LeaveDialog, MembersDialog } from '../dialogs/members-dialog.js';
import { NewChannelDialog } from '../dialogs/new-channel-dialog.js';
import { NewGroupDialog } from '../dialogs/new-group-dialog.js';
import { NewMessageDialog } from '../dialogs/new-message-dialog.js';
import { NotificationsDialog } from '../dialogs/notifications-dialog.js';
import { ProfileDialog } from '../dialogs/profile-dialog.js';
import { QuickSwitcher } from '../dialogs/quick-switcher.js';
import { SavedDialog } from '../dialogs/saved-dialog.js';
import { SearchDialog } from '../dialogs/search-dialog.js';
import { SettingsDialog } from '../dialogs/settings-dialog.js';
import { StatusDialog } from '../dialogs/status-dialog.js';
import { WebhooksDialog } from '../dialogs/webhooks-dialog.js';
import { useDesktopNotifications } from '../hooks/use-desktop-notifications.js';
import { useDocumentTitle } from '../hooks/use-document-title.js';
import { usePresenceRefresh } from '../hooks/use-presence-refresh.js';
import { WorkspaceRoleContext } from '../hooks/use-workspace-role.js';
import { usePhoneLayout } from '../lib/layout.js';
import {
  activityPath,
  back,
  navigate,
  notesPath,
  peoplePath,
  useBackCloses,
  useLocation,
  workspaceKey,
  workspacePath,
} from '../lib/router.js';
import { defaultConversation, rememberConversation } from '../lib/workspace-setup.js';
import { ModerationScreen } from '../screens/moderation/moderation-screen.js';
import { ActivityPage } from './activity-page.js';
import { ConnectionBanner } from './connection-banner.js';
import { Conversation } from './conversation.js';
import { GuestBanner } from './guest-banner.js';
import { HashIcon } from './icons.js';
import { MessageToasts } from './message-toasts.js';
import { NotesPage } from './notes-page.js';
import { NotifyBanner } from './notify-banner.js';
import { Office } from './office.js';
import { PeoplePage } from './people-page.js';
import type { DialogName } from './shell-types.js';
import { Sidebar } from './sidebar.js';

/** The call this device is in, above the conversation, titled with its channel's name. */
function ActiveCall() {
  const { active } = useCalls();
  const client = useChatClient();
  const handle = useMemo(() => {
    const parsed = active ? parseCid(active.cid) : null;
    return parsed ? client.channel(parsed.type, parsed.id) : null;
  }, [client, active]);
  const title = useChannelTitle(useChannelState(handle));
  if (!active) return null;
  return <CallView title={title} className="app-call-view" />;
}

function NoConversation({ onBrowse }: { onBrowse(): void }) {
  return (
    <div className="app-empty-main">
      <HashIcon />
      <h1>Nothing open</h1>
      <p className="app-muted">Pick a conversation on the left, or find a channel to join.</p>
      <button type="button" className="app-button app-button--primary" onClick={onBrowse}>
        Browse channels
      </button>
    </div>
  );
}

export function Shell({
  workspace,
  cid,
  page = null,
  onWorkspaceChange,
}: {
  workspace: Workspace;
  cid: string | null;
  /** A page in place of a conversation (`/w/<id>/people`, `/w/<id>/activity`, `/w/<id>/notes`). */
  page?: 'people' | 'activity' | 'notes' | null;
  /** The workspace was changed here (settings in the admin console): show the new one. */
  onWorkspaceChange?(workspace: Workspace): void;
}) {
  const client = useChatClient();
  // Addresses name the workspace by its slug where it has one (`/w/acme/c/…`).
  const key = workspaceKey(workspace);
  const [dialog, setDialog] = useState<DialogName | null>(null);
  const [navOpen, setNavOpen] = useState(false);
  const [office, setOffice] = useState(false);
  const phone = usePhoneLayout();
  // The same handle for the same cid (the client keeps one per cid).
  const handle = useMemo(() => {
    const parsed = cid ? parseCid(cid) : null;
    return parsed ? client.channel(parsed.type, parsed.id) : null;
  }, [client, cid]);
  const title = useChannelTitle(useChannelState(handle));
  useDocumentTitle(workspace.name, handle ? title : null);
  usePresenceRefresh();
  useDesktopNotifications(workspace.id);
  // `?m=<message id>`: a message to show and highlight (a search hit).
  const location = useLocation();
  const focus = new URL(location, 'http://x').searchParams.get('m');
  // `?t=<parent id>`: a thread to open beside it (a reply opened from Activity).
  const threadParam = new URL(location, 'http://x').searchParams.get('t');
  const noteParam = new URL(location, 'http://x').searchParams.get('note');

  // The office is no address of its own: on a phone the back gesture leaves it all the same.
  useBackCloses(phone && office, () => setOffice(false));
  // A phone shows one pane: the sidebar at the workspace's own address, else what is open.
  const pane = phone && !cid && !page && !office ? 'nav' : 'main';
  // The header's leading button: back to the sidebar on a phone, else the folded sidebar.
  const openNav = useCallback(() => {
    if (!phone) {
      setNavOpen(true);
      return;
    }
    if (office) setOffice(false);
    else back(workspacePath(key));
  }, [phone, office, key]);

  const open = useCallback(
    (next: string) => {
      setDialog(null);
      setNavOpen(false);
      setOffice(false);
      navigate(workspacePath(key, next));
    },
    [key],
  );

  // What is saved, so each message's Save action shows whether it is (and Saved opens filled).
  useEffect(() => keepLoading(() => client.saved.load()), [client]);

  // The channel last open on any device (kept on the server): asked once, so a new device or
  // tab opens where you were. Undefined while asking; null when none (or it failed).
  const [serverLast, setServerLast] = useState<string | null | undefined>(undefined);
  useEffect(() => {
    let live = true;
    client.getLastChannel().then(
      (c) => live && setServerLast(c),
      () => live && setServerLast(null),
    );
    return () => {
      live = false;
    };
  }, [client]);

  // The open channel is told to the server once it has stayed open a moment (flicking through
  // channels is one write, not one per channel passed), once per channel opened. It goes on the
  // socket (`last_channel.set`), never over HTTP: a member removed or leaving at that moment has
  // a token just signed out, which an HTTP request would carry into a 401 and a session refresh
  // for a workspace they are no longer in; a socket that is down or closed sends nothing.
  useEffect(() => {
    if (!cid) return;
    const t = setTimeout(() => {
      if (client.state.get().connection !== 'online') return;
      client.setLastChannel(cid).catch(() => {
        // a channel that cannot be kept (gone, not readable) leaves the last one as it was
      });
    }, 1_000);
    return () => clearTimeout(t);
  }, [client, cid]);

  // With no conversation in the URL, open the default one as soon as the list has one.
  const listed = useClientState((s) => s.channelList.length);
  useEffect(() => {
    if (cid) {
      rememberConversation(workspace.id, cid);
      // Once something is open, this tab's own last channel is the default from then on.
      if (serverLast) setServerLast(null);
      return;
    }
    if (page) return;
    // A phone's workspace address is its sidebar (the list of conversations), as in a phone app.
    if (phone) return;
    if (serverLast === undefined) return;
    const first = serverLast ?? (listed > 0 ? defaultConversation(client, workspace.id) : null);
    if (first) navigate(workspacePath(key, first), { replace: true });
  }, [client, cid, workspace.id, key, listed, serverLast, page, phone]);

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === 'k') {
        e.preventDefault();
        setDialog('switcher');
      } else if ((e.ctrlKey || e.metaKey) && e.shiftKey && e.key.toLowerCase() === 'f') {
        e.preventDefault();
        setDialog('search');
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);

  const close = () => setDialog(null);
  return (
    <WorkspaceRoleContext.Provider value={workspace.role}>
      <div className={`app-shell${navOpen ? ' app-shell--nav-open' : ''}`} data-pane={pane}>
        <div className="app-shell__banners">
          <ConnectionBanner />
          <GuestBanner workspace={workspace} />
          <NotifyBanner workspaceId={workspace.id} />
        </div>
        <Sidebar
          workspace={workspace}
          activeCid={cid}
          onSelect={open}
          onDialog={setDialog}
          officeOpen={office}
          peopleOpen={page === 'people' && !office}
          notesOpen={page === 'notes' && !office}
          onPeople={() => {
            setOffice(false);
            setNavOpen(false);
            navigate(peoplePath(key));
          }}
          activityOpen={page === 'activity' && !office}
          onActivity={() => {
            setOffice(false);
            setNavOpen(false);
            navigate(activityPath(workspace.id));
          }}
          onNotes={() => {
            setOffice(false);
            setNavOpen(false);
            navigate(notesPath(key));
          }}
          onOffice={() => {
            setOffice(true);
            setNavOpen(false);
          }}
        />
        <button
          type="button"
          className="app-shell__scrim"
          aria-label="Close sidebar"
          onClick={() => setNavOpen(false)}
        />
        <IncomingCallToast />
        <MessageToasts openCid={office ? null : cid} onOpen={open} />
        {/* On a phone a call is a screen of its own, over whichever pane is showing. */}
        {phone ? <ActiveCall /> : null}
        <main className="app-main">
          {phone ? null : <ActiveCall />}
          {office ? (
            <Office
              isAdmin={workspace.role === 'owner' || workspace.role === 'admin'}
              onOpenConversation={open}
              onOpenNav={openNav}
              onMessage={async (userId) => {
                const dm = client.channel('dm', { members: [userId] });
                await dm.createChannel();
                open(dm.cid);
              }}
            />
          ) : page === 'activity' ? (
            <ActivityPage
              onOpenNav={openNav}
              onOpenItem={(item) => {
                if (!item.cid) return;
                // A reply is shown through its thread's parent, in the conversation around it.
                const focusId = item.parent_id ?? (item.kind === 'invitation' ? null : item.message_id);
                const query = new URLSearchParams();
                if (item.note_id) query.set('note', item.note_id);
                if (focusId) query.set('m', focusId);
                if (item.parent_id) query.set('t', item.parent_id);
                const qs = query.toString();
                navigate(`${workspacePath(workspace.id, item.cid)}${qs ? `?${qs}` : ''}`);
              }}
              onOpenTask={(task) =>
                navigate(`${workspacePath(workspace.id, task.cid)}?m=${encodeURIComponent(task.message_id)}`)
              }
            />
          ) : page === 'people' ? (
            <PeoplePage
              isAdmin={workspace.role === 'owner' || workspace.role === 'admin'}
              onOpenConversation={open}
              onOpenNav={openNav}
            />
          ) : page === 'notes' ? (
            <NotesPage onOpenNav={openNav} onOpenConversation={open} />
          ) : handle ? (
            <Conversation
              key={cid}
              channel={handle}
              focusMessageId={focus}
              threadId={threadParam}
              noteId={noteParam}
              onOpenConversation={open}
              onLeft={() => navigate(workspacePath(key), { replace: true })}
              onOpenNav={openNav}
              onEditProfile={() => setDialog('profile')}
            />
          ) : (
            <NoConversation onBrowse={() => setDialog('browse')} />
          )}
        </main>
        {dialog === 'new-channel' ? <NewChannelDialog onClose={close} onCreated={open} /> : null}
        {dialog === 'new-message' ? <NewMessageDialog onClose={close} onCreated={open} /> : null}
        {dialog === 'new-group' ? <NewGroupDialog onClose={close} onCreated={open} /> : null}
        {dialog === 'browse' ? <ChannelBrowser onClose={close} onOpen={open} /> : null}
        {dialog === 'invite' ? <InviteDialog workspace={workspace} onClose={close} /> : null}
        {dialog === 'members' ? <MembersDialog workspace={workspace} onClose={close} /> : null}
        {dialog === 'admin' ? (
          <AdminConsole workspace={workspace} onClose={close} {...(onWorkspaceChange ? { onWorkspaceChange } : {})} />
        ) : null}
        {dialog === 'leave' ? <LeaveDialog workspace={workspace} onClose={close} /> : null}
        {dialog === 'settings' ? (
          <SettingsDialog
            onClose={close}
            onOpenMessage={(at, messageId) => {
              close();
              navigate(`${workspacePath(workspace.id, at)}?m=${encodeURIComponent(messageId)}`);
            }}
          />
        ) : null}
        {dialog === 'status' ? <StatusDialog onClose={close} /> : null}
        {dialog === 'profile' ? <ProfileDialog onClose={close} /> : null}
        {dialog === 'notifications' ? <NotificationsDialog workspaceId={workspace.id} onClose={close} /> : null}
        {dialog === 'later' ? <LaterDialog onClose={close} /> : null}
        {dialog === 'saved' ? (
          <SavedDialog
            onClose={close}
            onOpen={(item) => {
              setDialog(null);
              setNavOpen(false);
              setOffice(false);
              navigate(`${workspacePath(workspace.id, item.cid)}?m=${encodeURIComponent(item.message_id)}`);
            }}
          />
        ) : null}
        {dialog === 'webhooks' ? <WebhooksDialog onClose={close} /> : null}
        {dialog === 'emoji' ? (
          <EmojiDialog isAdmin={workspace.role === 'owner' || workspace.role === 'admin'} onClose={close} />
        ) : null}
        {dialog === 'switcher' ? <QuickSwitcher onClose={close} onOpen={open} /> : null}
        {dialog === 'moderation' ? <ModerationScreen onClose={close} /> : null}
        {dialog === 'calls' ? <CallsDialog onClose={close} onOpen={open} /> : null}
        {dialog === 'search' ? (
          <SearchDialog
            activeCid={cid}
            activeName={handle ? title : null}
            onClose={close}
            onOpenConversation={open}
            onOpenHit={(hit) => {
              setDialog(null);
              setNavOpen(false);
              navigate(`${workspacePath(key, hit.channel.cid)}?m=${encodeURIComponent(hit.message.id)}`);
            }}
          />
        ) : null}
      </div>
    </WorkspaceRoleContext.Provider>
  );
}
