import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ObjectBody, ObjectStore } from './object-store';

/** An object store in a local directory: keys are relative paths, writes go through a rename. */
export class LocalStore implements ObjectStore {
  constructor(private readonly root: string) {}

  async put(key: string, body: ObjectBody): Promise<void> {
    const file = this.resolve(key);
    await mkdir(path.dirname(file), { recursive: true });
    // A unique temp name, so two writers of one key never interleave; the rename makes the object appear whole.
    const temp = `${file}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
    try {
      if (body instanceof Readable) await pipeline(body, createWriteStream(temp));
      else await writeFile(temp, body);
      await rename(temp, file);
    } catch (e) {
      await rm(temp, { force: true });
      throw e;
    }
  }

  async get(key: string): Promise<Buffer | null> {
    try {
      return await readFile(this.resolve(key));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw e;
    }
  }

  async list(prefix: string): Promise<string[]> {
    // A prefix that is not a folder (`lake/t/_manifest`) lists its folder and keeps the keys it starts.
    const folder = prefix === '' || prefix.endsWith('/') ? prefix : path.posix.dirname(prefix);
    const dir = this.resolve(folder === '.' ? '' : folder);
    try {
      const entries = await readdir(dir, { recursive: true, withFileTypes: true });
      return entries
        .filter((e) => e.isFile() && !e.name.includes('.tmp-'))
        .map((e) => path.relative(this.root, path.join(e.parentPath, e.name)).split(path.sep).join('/'))
        .filter((key) => key.startsWith(prefix))
        .sort();
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw e;
    }
  }

  async listFolders(prefix: string): Promise<string[]> {
    try {
      const entries = await readdir(this.resolve(prefix), { withFileTypes: true });
      return entries
        .filter((e) => e.isDirectory())
        .map((e) => e.name)
        .sort();
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw e;
    }
  }

  async delete(keys: string[]): Promise<void> {
    await Promise.all(keys.map((key) => rm(this.resolve(key), { force: true })));
  }

  async close(): Promise<void> {}

  /** Maps a key into the root, refusing keys that would climb out of it. */
  private resolve(key: string): string {
    const file = path.resolve(this.root, key);
    if (file !== this.root && !file.startsWith(this.root + path.sep))
      throw new Error(`object key escapes the store: ${key}`);
    return file;
  }
}
