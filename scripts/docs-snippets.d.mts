// Types of scripts/docs-snippets.mjs, for the TypeScript tests that import it.
/** One fenced block of a Markdown file. */
export interface Snippet {
  file: string;
  line: number;
  lang: string;
  kind: 'sh' | 'js' | 'cjs' | 'ts' | null;
  code: string;
  mode: 'run' | 'no-run';
  reason: string;
  setup: 'client' | 'parley' | null;
  problems: string[];
}
/** What the runner fills in and hands to each block. */
export interface SnippetValues {
  [key: string]: string | number;
}
export const RUN_LANGS: Record<string, 'sh' | 'js' | 'ts'>;
export const MARK_LANGS: Set<string>;
export function extractSnippets(text: string, file?: string): Snippet[];
export function docSnippets(files?: string[]): Snippet[];
export function runnable(snippets: Snippet[]): Snippet[];
export function fillPlaceholders(code: string, values: SnippetValues): string;
export function moduleSource(snippet: Pick<Snippet, 'code' | 'setup'>, values: SnippetValues): string;
export function runSnippet(
  snippet: Snippet,
  values: SnippetValues,
  dir: string,
  timeoutMs?: number,
): Promise<{ code: number; output: string }>;
