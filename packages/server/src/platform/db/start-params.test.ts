import { describe, expect, it } from 'vitest';
import { DATA_FOLDER_SHARED_BUFFERS, dataFolderStart } from './index.js';

const buffers = (params: string[]) => params[params.lastIndexOf('-c') + 1];

describe("a data folder's PGlite start", () => {
  it("takes PARLEY_PGLITE_SHARED_BUFFERS, else the default, after PGlite's own parameters", () => {
    expect(buffers(dataFolderStart({}))).toBe(`shared_buffers=${DATA_FOLDER_SHARED_BUFFERS}`);
    expect(buffers(dataFolderStart({ PARLEY_PGLITE_SHARED_BUFFERS: ' ' }))).toBe(
      `shared_buffers=${DATA_FOLDER_SHARED_BUFFERS}`,
    );
    expect(buffers(dataFolderStart({ PARLEY_PGLITE_SHARED_BUFFERS: '128MB' }))).toBe('shared_buffers=128MB');
    expect(buffers(dataFolderStart({ PARLEY_PGLITE_SHARED_BUFFERS: '1GB' }))).toBe('shared_buffers=1GB');
    expect(buffers(dataFolderStart({ PARLEY_PGLITE_SHARED_BUFFERS: '512kB' }))).toBe('shared_buffers=512kB');
    expect(dataFolderStart({})).toContain('--single');
  });

  it('refuses what is not a size PostgreSQL and PGlite can take, naming the setting', () => {
    for (const bad of ['64', '64mb', '2GB', '64kB', 'lots', '64MB; drop', '-1MB', '1e3MB'])
      expect(() => dataFolderStart({ PARLEY_PGLITE_SHARED_BUFFERS: bad }), bad).toThrow(/PARLEY_PGLITE_SHARED_BUFFERS/);
  });
});
