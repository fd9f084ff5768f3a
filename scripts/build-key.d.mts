// Types of scripts/build-key.mjs, for the TypeScript tests that import it.
export const REPO_ROOT: string;
export const WEB_DIST: string;
export const DOCS_DIST: string;
export function webBuildKey(): string;
export function docsBuildKey(): string;
export function stampedBuild(dir: string, key: string): string | null;
export function keyOf(inputs: string[], skip?: (rel: string) => boolean, extra?: string): string;
