// Types of scripts/test-split.mjs, for the TypeScript files that import it.
export function splitBackend(salt: string, file: string): 'pglite' | 'postgres';
export const BOTH_BACKENDS: string[];
export function checksOneBackend(text: string): boolean;
