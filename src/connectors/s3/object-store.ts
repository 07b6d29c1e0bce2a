import type { Readable } from 'node:stream';

/** An object's content: whole in memory, or a byte stream so a large part is never held at once. */
export type ObjectBody = Buffer | string | Readable;

/** The few object-store operations the object-store connectors need; S3 and a local directory both offer them. */
export interface ObjectStore {
  /** Writes an object whole; readers never see a partial one. */
  put(key: string, body: ObjectBody): Promise<void>;
  /** Reads an object, or null when it does not exist. */
  get(key: string): Promise<Buffer | null>;
  /** Lists the keys that start with a prefix (a folder `a/b/` or any string), in key order. */
  list(prefix: string): Promise<string[]>;
  /** Lists the names of the folders directly under a prefix (that ends in `/`), in name order. */
  listFolders(prefix: string): Promise<string[]>;
  /** Deletes objects; missing ones are ignored. */
  delete(keys: string[]): Promise<void>;
  /** Releases connections. */
  close(): Promise<void>;
}
