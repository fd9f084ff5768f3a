import { describe, expect, it } from 'vitest';
import { DATA_FOLDER_SHARED_BUFFERS, dataFolderParams } from './data-folder.js';

const buffers = (params: string[]) => params[params.lastIndexOf('-c') + 1];

describe("a data folder's PGlite start", () => {
  it("takes PARLEY_PGLITE_SHARED_BUFFERS, else the default (the worker puts them after PGlite's own parameters)", () => {
    expect(buffers(dataFolderParams({}))).toBe(`shared_buffers=${DATA_FOLDER_SHARED_BUFFERS}`);
    expect(buffers(dataFolderParams({ PARLEY_PGLITE_SHARED_BUFFERS: ' ' }))).toBe(
      `shared_buffers=${DATA_FOLDER_SHARED_BUFFERS}`,
    );
    expect(buffers(dataFolderParams({ PARLEY_PGLITE_SHARED_BUFFERS: '128MB' }))).toBe('shared_buffers=128MB');
    expect(buffers(dataFolderParams({ PARLEY_PGLITE_SHARED_BUFFERS: '1GB' }))).toBe('shared_buffers=1GB');
    expect(buffers(dataFolderParams({ PARLEY_PGLITE_SHARED_BUFFERS: '512kB' }))).toBe('shared_buffers=512kB');
    expect(dataFolderParams({})).toEqual(['-c', `shared_buffers=${DATA_FOLDER_SHARED_BUFFERS}`]);
  });

  it('refuses what is not a size PostgreSQL and PGlite can take, naming the setting', () => {
    for (const bad of ['64', '64mb', '2GB', '64kB', 'lots', '64MB; drop', '-1MB', '1e3MB'])
      expect(() => dataFolderParams({ PARLEY_PGLITE_SHARED_BUFFERS: bad }), bad).toThrow(
        /PARLEY_PGLITE_SHARED_BUFFERS/,
      );
  });
});
