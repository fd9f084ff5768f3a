// Types of scripts/docs-reference.mjs, for the TypeScript tests that import it.
/** A short, readable type of a JSON schema. */
export function typeOf(schema: unknown, depth?: number, link?: (name: string) => string): string;
/** The REST reference pages (`rest.md`, `rest/<tag>.md`) from an OpenAPI document, by path under docs/reference/. */
export function renderRestReference(doc: unknown): Record<string, string>;
/** docs/reference/socket.md. */
export function renderSocketReference(): string;
/** docs/reference/errors.md. */
export function renderErrorsReference(): string;
