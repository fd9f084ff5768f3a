// Whether packages' built JavaScript is what their sources say: the `parley` command
// (parley.mjs) runs dist/ only then, and so do the child processes the repository's tests start
// (packages/server/test/child-command.ts).
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';

/** True when every package folder of `dirs` has a dist/ at least as new as each file of its src/. */
export function builtIsCurrent(dirs) {
  for (const dir of dirs) {
    const entry = ['dist/main.js', 'dist/index.js'].map((f) => path.join(dir, f)).find((f) => existsSync(f));
    if (!entry) return false;
    const built = statSync(entry).mtimeMs;
    const src = path.join(dir, 'src');
    if (!existsSync(src)) continue;
    // Files only: a folder's time is when it was made, which for an installed package is the
    // install (npm's tarballs hold no folders, and give every file one fixed time).
    for (const f of readdirSync(src, { recursive: true })) {
      const st = statSync(path.join(src, String(f)));
      if (st.isFile() && st.mtimeMs > built) return false;
    }
  }
  return true;
}
