-- The search index with a pending list (features/search/index-flush.ts): a send appends its
-- message's entries to the list instead of updating a posting tree per word, and the server
-- merges the list every second on its own connection, so no send ever finds it full (64 MB).
ALTER INDEX messages_search_idx SET (fastupdate = on, gin_pending_list_limit = 65536);
