import { randomBytes } from 'node:crypto';
import { createWriteStream, type Dirent } from 'node:fs';
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
    if (prefix !== '' && !prefix.endsWith('/')) {
      // A prefix that is not a folder (`lake/t/_manifest`): the entries of its folder that it starts.
      const folder = path.posix.dirname(prefix);
      const base = path.posix.basename(prefix);
      const within = folder === '.' ? '' : `${folder}/`;
      const names = await this.entries(within, false);
      const matching = names.filter((e) => e.name.startsWith(base));
      const nested = await Promise.all(
        matching.filter((e) => e.isDirectory()).map((e) => this.list(`${within}${e.name}/`)),
      );
      const files = matching
        .filter((e) => e.isFile() && !e.name.includes('.tmp-'))
        .map((e) => within + e.name);
      return [...files, ...nested.flat()].sort();
    }
    return (await this.entries(prefix, true))
      .filter((e) => e.isFile() && !e.name.includes('.tmp-'))
      .map((e) => path.relative(this.root, path.join(e.parentPath, e.name)).split(path.sep).join('/'))
      .sort();
  }

  /** The entries of a folder (and below it, when recursive); none when it does not exist. */
  private async entries(folder: string, recursive: boolean): Promise<Dirent[]> {
    try {
      return await readdir(this.resolve(folder), { recursive, withFileTypes: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw e;
    }
  }

  async listFolders(prefix: string): Promise<string[]> {
    return (await this.entries(prefix, false))
      .filter((e) => e.isDirectory())
      .map((e) => e.name)
      .sort();
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
