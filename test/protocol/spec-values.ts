/**
 * Random messages built straight from Kafka's JSON specs, independently of the generator: a
 * second reading of what `versions`, `nullableVersions`, tags and defaults mean. For a version,
 * every field present in it gets a random value (null where allowed, tagged fields default or
 * not) and every absent field gets its default, so decode(encode(value)) must equal value.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { ZERO_UUID } from '../../src/protocol/uuid.js';

export interface FieldSpec {
  name: string;
  type: string;
  versions: string;
  nullableVersions?: string;
  taggedVersions?: string;
  tag?: number;
  default?: string | number | boolean;
  ignorable?: boolean;
  fields?: FieldSpec[];
}

export interface MessageSpec {
  name: string;
  validVersions: string;
  flexibleVersions: string;
  fields: FieldSpec[];
  commonStructs?: { name: string; fields: FieldSpec[] }[];
}

const specDirectory = fileURLToPath(new URL('../../protocol-specs/message/', import.meta.url));

export function loadSpec(name: string): MessageSpec {
  // The specs carry only whole-line // comments (the license header and notes between fields).
  const text = readFileSync(`${specDirectory}${name}.json`, 'utf8').replace(/^\s*\/\/.*$/gm, '');
  return JSON.parse(text) as MessageSpec;
}

export function inVersions(range: string | undefined, version: number): boolean {
  if (range === undefined || range === '' || range === 'none') return false;
  if (range.endsWith('+')) return version >= Number(range.slice(0, -1));
  const [low, high = low] = range.split('-').map(Number);
  return version >= low! && version <= high!;
}

export function validVersions(spec: MessageSpec): number[] {
  const [low, high = low] = spec.validVersions.split('-').map(Number);
  const versions: number[] = [];
  for (let version = low!; version <= high!; version++) versions.push(version);
  return versions;
}

const camel = (name: string): string => name.charAt(0).toLowerCase() + name.slice(1);

function structFields(spec: MessageSpec, field: FieldSpec): FieldSpec[] {
  if (field.fields) return field.fields;
  const name = field.type.replace(/^\[\]/, '');
  const common = spec.commonStructs?.find((struct) => struct.name === name);
  if (!common) throw new Error(`no struct ${name}`);
  return common.fields;
}

const isStruct = (type: string): boolean => /^(\[\])?[A-Z]/.test(type);

/** Kafka's default for a field: its `default`, else zero, empty, or (records) null. */
export function defaultOf(spec: MessageSpec, field: FieldSpec): unknown {
  const text = field.default === undefined ? undefined : String(field.default);
  if (text === 'null') return null;
  if (field.type.startsWith('[]')) return [];
  if (isStruct(field.type)) return defaultStruct(spec, structFields(spec, field));
  switch (field.type) {
    case 'bool': return text === 'true';
    case 'int64': return text === undefined ? 0n : BigInt(text);
    case 'int8': case 'int16': case 'uint16': case 'int32': case 'uint32': case 'float64':
      return text === undefined ? 0 : Number(text);
    case 'string': return text ?? '';
    case 'bytes': return new Uint8Array(0);
    case 'records': return null;
    case 'uuid': return ZERO_UUID;
  }
  throw new Error(`no default for ${field.type}`);
}

function defaultStruct(spec: MessageSpec, fields: FieldSpec[]): Record<string, unknown> {
  return Object.fromEntries(fields.map((field) => [camel(field.name), defaultOf(spec, field)]));
}

const uuid = fc.uint8Array({ minLength: 16, maxLength: 16 }).map((bytes) => Buffer.from(bytes).toString('base64url'));
const text = fc.string({ unit: 'grapheme', maxLength: 12 });

function primitive(type: string): fc.Arbitrary<unknown> {
  switch (type) {
    case 'bool': return fc.boolean();
    case 'int8': return fc.integer({ min: -128, max: 127 });
    case 'int16': return fc.integer({ min: -32768, max: 32767 });
    case 'uint16': return fc.integer({ min: 0, max: 65535 });
    case 'int32': return fc.integer({ min: -2147483648, max: 2147483647 });
    case 'uint32': return fc.integer({ min: 0, max: 4294967295 });
    case 'int64': return fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n });
    case 'float64': return fc.double({ noNaN: true }).filter((number) => !Object.is(number, -0));
    case 'string': return text;
    case 'bytes': case 'records': return fc.uint8Array({ maxLength: 24 });
    case 'uuid': return uuid;
  }
  throw new Error(`no arbitrary for ${type}`);
}

function valueOf(spec: MessageSpec, field: FieldSpec, version: number, depth: number): fc.Arbitrary<unknown> {
  let value: fc.Arbitrary<unknown>;
  if (field.type.startsWith('[]')) {
    const elementType = field.type.slice(2);
    const element = isStruct(elementType) ? structOf(spec, structFields(spec, field), version, depth + 1) : primitive(elementType);
    value = fc.array(element, { maxLength: depth > 1 ? 1 : 3 });
  } else if (isStruct(field.type)) {
    value = structOf(spec, structFields(spec, field), version, depth + 1);
  } else {
    value = primitive(field.type);
  }
  if (inVersions(field.nullableVersions, version)) value = fc.option(value, { nil: null, freq: 4 });
  // Tagged fields are skipped on the wire when default: make that common too.
  if (field.tag !== undefined) value = fc.oneof(fc.constant(defaultOf(spec, field)), value);
  return value;
}

function structOf(spec: MessageSpec, fields: FieldSpec[], version: number, depth: number): fc.Arbitrary<Record<string, unknown>> {
  const record: Record<string, fc.Arbitrary<unknown>> = {};
  for (const field of fields) {
    record[camel(field.name)] = inVersions(field.versions, version) ? valueOf(spec, field, version, depth) : fc.constant(defaultOf(spec, field));
  }
  return fc.record(record, { noNullPrototype: true });
}

/** Random complete values of the message at `version`. */
export function messageArbitrary(spec: MessageSpec, version: number): fc.Arbitrary<Record<string, unknown>> {
  return structOf(spec, spec.fields, version, 0);
}
