/** The few object-store operations the object-store target needs; S3 and a local directory both offer them. */
export interface ObjectStore {
  /** Writes an object whole; readers never see a partial one. */
  put(key: string, body: Buffer | string): Promise<void>;
  /** Reads an object, or null when it does not exist. */
  get(key: string): Promise<Buffer | null>;
  /** Lists the keys under a prefix. */
  list(prefix: string): Promise<string[]>;
  /** Deletes objects; missing ones are ignored. */
  delete(keys: string[]): Promise<void>;
}
