import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { Payload, PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';

const ENCODING = 'binary/encrypted';
const keyIdHeader = 'encryption-key-id';

/**
 * Encrypts every payload (workflow inputs, results, heartbeat details, failures' details) with
 * AES-256-GCM before it reaches Temporal, so history holds table names and row counts only as
 * ciphertext. Search attributes stay readable: they are what the Web UI filters on.
 */
export class EncryptionCodec implements PayloadCodec {
  constructor(
    private readonly key: Buffer,
    private readonly keyId: string,
  ) {
    if (key.length !== 32) throw new Error('the payload key must be 32 bytes (base64 of 32 random bytes)');
  }

  encode(payloads: Payload[]): Promise<Payload[]> {
    return Promise.resolve(
      payloads.map((payload) => {
        const iv = randomBytes(12);
        const cipher = createCipheriv('aes-256-gcm', this.key, iv);
        const plain = temporal.api.common.v1.Payload.encode(payload).finish();
        const data = Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
        return {
          metadata: { encoding: Buffer.from(ENCODING), [keyIdHeader]: Buffer.from(this.keyId) },
          data,
        };
      }),
    );
  }

  decode(payloads: Payload[]): Promise<Payload[]> {
    return Promise.resolve(
      payloads.map((payload) => {
        if (Buffer.from(payload.metadata?.encoding ?? []).toString() !== ENCODING || !payload.data)
          return payload;
        const data = Buffer.from(payload.data);
        const decipher = createDecipheriv('aes-256-gcm', this.key, data.subarray(0, 12));
        decipher.setAuthTag(data.subarray(data.length - 16));
        const plain = Buffer.concat([decipher.update(data.subarray(12, data.length - 16)), decipher.final()]);
        return temporal.api.common.v1.Payload.decode(plain);
      }),
    );
  }
}

/**
 * The codec configured by `MMS_PAYLOAD_KEY` (base64 of 32 bytes) or `MMS_PAYLOAD_KEY_FILE`, or none.
 * Workers and clients of one deployment must share the key.
 */
export function payloadCodecFromEnv(env: NodeJS.ProcessEnv = process.env): EncryptionCodec | undefined {
  const text =
    env.MMS_PAYLOAD_KEY ??
    (env.MMS_PAYLOAD_KEY_FILE ? readFileSync(env.MMS_PAYLOAD_KEY_FILE, 'utf8').trim() : undefined);
  if (!text) return undefined;
  return new EncryptionCodec(Buffer.from(text, 'base64'), env.MMS_PAYLOAD_KEY_ID ?? 'default');
}

/** The data converter for clients and workers: encrypted when a key is configured. */
export function dataConverterFromEnv(env: NodeJS.ProcessEnv = process.env): {
  payloadCodecs?: PayloadCodec[];
} {
  const codec = payloadCodecFromEnv(env);
  return codec ? { payloadCodecs: [codec] } : {};
}

interface JsonPayload {
  metadata?: Record<string, string>;
  data?: string;
}

/**
 * A codec endpoint for the Temporal Web UI (`--ui-codec-endpoint`): the browser posts base64
 * payloads to `/decode` and gets them back readable, so the key never leaves this process.
 */
export function startCodecServer(codec: PayloadCodec, port: number, origin = '*'): http.Server {
  const fromJson = (p: JsonPayload): Payload => ({
    metadata: Object.fromEntries(
      Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')]),
    ),
    data: p.data === undefined ? undefined : Buffer.from(p.data, 'base64'),
  });
  const toJson = (p: Payload): JsonPayload => ({
    metadata: Object.fromEntries(
      Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')]),
    ),
    data: p.data ? Buffer.from(p.data).toString('base64') : undefined,
  });
  return http
    .createServer((req, res) => {
      res.setHeader('Access-Control-Allow-Origin', origin);
      res.setHeader('Access-Control-Allow-Methods', 'POST, OPTIONS');
      res.setHeader('Access-Control-Allow-Headers', 'content-type, x-namespace');
      if (req.method === 'OPTIONS') return void res.end();
      const action = req.url?.endsWith('/decode')
        ? 'decode'
        : req.url?.endsWith('/encode')
          ? 'encode'
          : undefined;
      if (req.method !== 'POST' || !action) return void res.writeHead(404).end();
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as {
          payloads?: JsonPayload[];
        };
        codec[action]((body.payloads ?? []).map(fromJson)).then(
          (payloads) =>
            res
              .writeHead(200, { 'content-type': 'application/json' })
              .end(JSON.stringify({ payloads: payloads.map(toJson) })),
          () => res.writeHead(400).end(),
        );
      });
    })
    .listen(port, '127.0.0.1');
}
