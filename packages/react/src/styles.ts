/**
 * Where the kit's stylesheet is. Bundlers: `import '@parley/react/styles.css'`. Otherwise link
 * this URL (it resolves next to this module, e.g. through Vite's `new URL(…, import.meta.url)`
 * asset handling).
 */
export const parleyStylesHref: string = new URL('./styles.css', import.meta.url).href;
