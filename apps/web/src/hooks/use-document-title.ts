/** The tab title: mentions (or an unread dot), the conversation and the workspace. */
import { useClientState } from '@parley/react';
import { useEffect } from 'react';

export function useDocumentTitle(workspaceName: string, conversation: string | null): void {
  const mentions = useClientState((s) => s.totalMentions);
  const unread = useClientState((s) => s.totalUnread);
  useEffect(() => {
    const prefix = mentions > 0 ? `(${mentions}) ` : unread > 0 ? '• ' : '';
    document.title = `${prefix}${conversation ? `${conversation} - ` : ''}${workspaceName} - Parley`;
  }, [mentions, unread, conversation, workspaceName]);
  useEffect(
    () => () => {
      document.title = 'Parley';
    },
    [],
  );
}
