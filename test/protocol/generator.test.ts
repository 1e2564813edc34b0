/**
 * The generator on a made-up spec that uses what Samsa's own specs do not: uint16, uint32,
 * float64, arrays of int64 and uuid, a flexibleVersions override, a nullable tagged field with a
 * non-null default, a tagged struct inside a common struct. The generated module is written to a
 * temporary directory and imported like the committed ones.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MessageCodec } from '../../src/protocol/message-codec.js';
import { ProtocolReader } from '../../src/protocol/reader.js';
import { ProtocolEncodeError, ProtocolWriter } from '../../src/protocol/writer.js';
import { messageArbitrary, type MessageSpec } from './spec-values.js';

interface Generator {
  generateMessageSource(specText: string, fileName?: string): string;
  stripComments(text: string): string;
}

const root = fileURLToPath(new URL('../../', import.meta.url));

const spec = {
  apiKey: 9999,
  type: 'request',
  name: 'AllTypesRequest',
  validVersions: '0-3',
  flexibleVersions: '2+',
  fields: [
    { name: 'Flag', type: 'bool', versions: '0+', default: 'true' },
    { name: 'Tiny', type: 'int8', versions: '0+', default: '-1' },
    { name: 'Port', type: 'uint16', versions: '0+', default: '65535' },
    { name: 'Count', type: 'uint32', versions: '1+', default: '0xffffffff', ignorable: true },
    { name: 'Ratio', type: 'float64', versions: '1+', default: '0.5', ignorable: true },
    { name: 'Big', type: 'int64', versions: '0+', default: '-9223372036854775808' },
    { name: 'Id', type: 'uuid', versions: '0+' },
    { name: 'Label', type: 'string', versions: '0+', nullableVersions: '1+', flexibleVersions: 'none', about: 'Never compact, see http://example.com' },
    { name: 'Blob', type: 'bytes', versions: '0+', nullableVersions: '0+' },
    { name: 'Offsets', type: '[]int64', versions: '0+' },
    { name: 'Ids', type: '[]uuid', versions: '1+', ignorable: true },
    { name: 'Names', type: '[]string', versions: '0+', nullableVersions: '2+' },
    { name: 'Items', type: '[]Item', versions: '0+' },
    { name: 'Extra', type: 'string', versions: '2+', taggedVersions: '2+', tag: 0, nullableVersions: '2+', default: 'x' },
    { name: 'Payload', type: 'bytes', versions: '3+', taggedVersions: '3+', tag: 1, ignorable: true },
    { name: 'Legacy', type: 'int32', versions: '0-1', default: '7' },
  ],
  commonStructs: [
    {
      name: 'Item',
      versions: '0+',
      fields: [
        { name: 'Key', type: 'string', versions: '0+' },
        { name: 'Weight', type: 'float64', versions: '0+' },
        {
          name: 'Inner', type: 'InnerState', versions: '3+', taggedVersions: '3+', tag: 0,
          fields: [{ name: 'Epoch', type: 'int32', versions: '3+', default: '-1' }, { name: 'Uid', type: 'uuid', versions: '3+' }],
        },
      ],
    },
  ],
};

const specText = `// A comment, and one in a string must survive: "//"\n${JSON.stringify(spec, null, 2)}`;

let generator: Generator;
let allTypes: MessageCodec<Record<string, unknown>>;
let directory: string;

beforeAll(async () => {
  // A computed specifier: the generator is plain JavaScript without type declarations.
  generator = (await import(pathToFileURL(path.join(root, 'scripts/generate-protocol.mjs')).href)) as Generator;
  const source = generator.generateMessageSource(specText, 'AllTypesRequest.json')
    .replace(/'\.\.\/\.\.\/([a-z-]+)\.js'/g, (_match, module: string) => `'${pathToFileURL(path.join(root, 'src/protocol', `${module}.ts`)).href}'`);
  directory = mkdtempSync(path.join(tmpdir(), 'samsa-generator-'));
  const file = path.join(directory, 'all-types-request.ts');
  writeFileSync(file, source);
  allTypes = ((await import(pathToFileURL(file).href)) as { AllTypesRequestCodec: MessageCodec<Record<string, unknown>> }).AllTypesRequestCodec;
});

afterAll(() => {
  if (directory) rmSync(directory, { recursive: true, force: true });
});

function encode(value: Record<string, unknown>, version: number): Uint8Array {
  const writer = new ProtocolWriter();
  allTypes.encode(writer, value, version);
  return writer.toUint8Array();
}

describe('a generated codec for every field type', () => {
  it.each([0, 1, 2, 3])('round trips version %i', (version) => {
    fc.assert(fc.property(messageArbitrary(spec as unknown as MessageSpec, version), (value) => {
      const bytes = encode(value, version);
      const reader = new ProtocolReader(bytes);
      expect(allTypes.decode(reader, version)).toStrictEqual(value);
      reader.expectEnd();
    }), { numRuns: 100 });
  });

  it('writes the bytes Kafka would: override, nullable tagged field with a non-null default', () => {
    const value = {
      flag: false, tiny: 1, port: 8080, count: 3, ratio: 0.25, big: 2n, id: 'AAAAAAAAAAAAAAAAAAAAAA', label: 'ab', blob: null,
      offsets: [5n], ids: [], names: null, items: [{ key: 'k', weight: 1 }], extra: null,
    };
    const expected = [
      '00', '01', '1f90', '00000003', '3fd0000000000000', '0000000000000002', '00'.repeat(16),
      '0002 6162', // label: int16 length although v2 is flexible (flexibleVersions "none")
      '00', // blob: compact null
      '02 0000000000000005', // offsets
      '01', // ids: empty
      '00', // names: compact null
      '02 02 6b 3ff0000000000000 00', // items: one, key "k", weight 1.0, no tagged fields
      '01 00 01 00', // one tagged field: tag 0, size 1, compact null (null differs from default "x")
    ].join('').replace(/\s+/g, '');
    const bytes = encode(value, 2);
    expect(Buffer.from(bytes).toString('hex')).toBe(expected);
    const decoded = allTypes.decode(new ProtocolReader(bytes), 2);
    expect(decoded).toMatchObject({ ...value, payload: new Uint8Array(0), legacy: 7 });
  });

  it('refuses to drop non-ignorable values and null where a version has none', () => {
    const base = { flag: true, tiny: 0, port: 0, big: 0n, id: 'AAAAAAAAAAAAAAAAAAAAAA', label: '', blob: null, offsets: [], names: [], items: [] };
    expect(() => encode({ ...base, legacy: 8 }, 2)).toThrow(/legacy has a non-default value/);
    expect(() => encode({ ...base, extra: 'y' }, 1)).toThrow(/extra has a non-default value/);
    expect(() => encode({ ...base, label: null }, 0)).toThrow(ProtocolEncodeError);
    expect(encode({ ...base, payload: Uint8Array.of(1) }, 2).byteLength).toBeGreaterThan(0); // ignorable: dropped
  });
});

describe('the generator', () => {
  const variant = (change: (copy: typeof spec) => void): string => {
    const copy = structuredClone(spec);
    change(copy);
    return JSON.stringify(copy);
  };

  it('strips comments outside strings only', () => {
    expect(generator.stripComments('{ "a": "x//y" } // gone\n/* gone */')).toBe('{ "a": "x//y" } \n');
  });

  it('rejects specs it cannot honor', () => {
    expect(() => generator.generateMessageSource(variant((s) => { s.fields[1]!.nullableVersions = '0+'; }))).toThrow(/cannot be nullable/);
    expect(() => generator.generateMessageSource(variant((s) => { s.fields[14]!.tag = 0; }))).toThrow(/tag 0 is also used/);
    expect(() => generator.generateMessageSource(variant((s) => { s.fields[13]!.taggedVersions = '2-3'; }))).toThrow(/open-ended/);
    expect(() => generator.generateMessageSource(variant((s) => { s.fields[13]!.taggedVersions = '1+'; s.fields[13]!.versions = '1+'; s.fields[13]!.nullableVersions = '1+'; }))).toThrow(/flexible/);
    expect(() => generator.generateMessageSource(variant((s) => { s.fields[2]!.default = '70000'; }))).toThrow(/out of range/);
    expect(() => generator.generateMessageSource(variant((s) => { s.fields[12]!.type = '[]Missing'; }))).toThrow(/no struct Missing/);
  });
});
