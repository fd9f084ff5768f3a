/**
 * The Activity page (`/w/<id>/activity`): the user's inbox (the kit's `InboxList`) — mentions
 * of them and their groups, thread replies, reactions, DMs while away, invitations, reminders,
 * tasks given to them and changes to channel notes they follow. Its Tasks tab lists the tasks
 * assigned to them, to open or mark done.
 * Opening an item jumps to its message in its conversation (the thread's parent for a reply),
 * loaded around it and highlighted.
 */
import type { InboxItem, Task } from '@parley/protocol';
import { InboxList } from '@parley/react';
import { NavButton } from './nav-button.js';

export function ActivityPage({
  onOpenItem,
  onOpenTask,
  onOpenNav,
}: {
  onOpenItem(item: InboxItem): void;
  onOpenTask(task: Task): void;
  onOpenNav(): void;
}) {
  return (
    <section className="app-activity" aria-label="Activity page">
      <header className="app-channel-header">
        <NavButton onClick={onOpenNav} />
        <div className="app-channel-header__main">
          <h1 className="app-channel-header__name">Activity</h1>
        </div>
      </header>
      <InboxList onOpen={onOpenItem} onOpenTask={onOpenTask} />
    </section>
  );
}
