import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { MAX_RECENT, existingRecentLibraries, readRecentLibraries, rememberLibrary } from '../core/library/recent.js';
import { tempDir } from './helpers/tmp.js';

describe('recent libraries', () => {
  it('keeps the most recent first, once each, at most MAX_RECENT', () => {
    const { dir, cleanup } = tempDir();
    try {
      const file = path.join(dir, 'settings', 'recent.json');
      expect(readRecentLibraries(file)).toEqual([]);
      for (let i = 0; i < MAX_RECENT + 3; i++) rememberLibrary(file, path.join(dir, `lib${i}`));
      rememberLibrary(file, path.join(dir, 'lib5'));
      const list = readRecentLibraries(file);
      expect(list).toHaveLength(MAX_RECENT);
      expect(list[0]).toBe(path.join(dir, 'lib5'));
      expect(list.filter((d) => d.endsWith('lib5'))).toHaveLength(1);
      expect(list[1]).toBe(path.join(dir, `lib${MAX_RECENT + 2}`));
    } finally {
      cleanup();
    }
  });

  it('reads a damaged or foreign file as an empty list, and lists only folders that still exist', () => {
    const { dir, cleanup } = tempDir();
    try {
      const file = path.join(dir, 'recent.json');
      writeFileSync(file, '{ not json');
      expect(readRecentLibraries(file)).toEqual([]);
      writeFileSync(file, JSON.stringify({ libraries: ['relative/path', 42, path.join(dir, 'gone')] }));
      expect(readRecentLibraries(file)).toEqual([path.join(dir, 'gone')]);
      mkdirSync(path.join(dir, 'here'));
      rememberLibrary(file, path.join(dir, 'here'));
      expect(existingRecentLibraries(file)).toEqual([path.join(dir, 'here')]);
    } finally {
      cleanup();
    }
  });
});
