/** True when every package folder of `dirs` has a dist/ at least as new as each file of its src/. */
export function builtIsCurrent(dirs: readonly string[]): boolean;
