/**
 * The OCI image-spec JSON schemas (opencontainers/image-spec v1.1.1,
 * commit 147f9c13cedb47a0c4d9a11a222961073d585877, `schema/*.json`,
 * copied unchanged to test/fixtures/oci-image-spec/) compiled with ajv.
 * They are draft-04 documents whose nested `id`s the image-spec's own Go
 * validator ignores (it resolves `$ref`s by file name); here too: the
 * `id` and `$schema` keywords are dropped and each file is registered
 * under its file name, so `defs.json#/…` resolves to the sibling file.
 */
import { readFileSync } from 'node:fs';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';

const FILES = ['defs.json', 'defs-descriptor.json', 'content-descriptor.json', 'image-index-schema.json', 'image-manifest-schema.json'];

function strip(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(strip);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) if (k !== 'id' && k !== '$schema') out[k] = strip(v);
  return out;
}

/** Validators of an image index and an image manifest. */
export interface OciSchemas {
  index: ValidateFunction;
  manifest: ValidateFunction;
}

/** Loads and compiles the schemas. */
export function loadOciSchemas(): OciSchemas {
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats.default(ajv);
  for (const f of FILES) {
    const schema = JSON.parse(readFileSync(new URL(`../../../../test/fixtures/oci-image-spec/${f}`, import.meta.url), 'utf8')) as Record<string, unknown>;
    ajv.addSchema({ ...(strip(schema) as object), $id: f }, f);
  }
  const get = (f: string): ValidateFunction => {
    const v = ajv.getSchema(f);
    if (v === undefined) throw new Error(`schema ${f} missing`);
    return v;
  };
  return { index: get('image-index-schema.json'), manifest: get('image-manifest-schema.json') };
}
