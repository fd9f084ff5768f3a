/**
 * The tab title: mentions (or an unread dot), the conversation and the workspace. The totals
 * are the server's, pushed on every change (`useUnreadTotals`): channels this tab never loaded
 * count too, and a read on another device clears them here.
 */
import { useUnreadTotals } from '@parley/react';
import { useEffect } from 'react';

export function useDocumentTitle(workspaceName: string, conversation: string | null): void {
  const { mentions, total: unread } = useUnreadTotals();
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
