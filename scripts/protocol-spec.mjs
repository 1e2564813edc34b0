// Apache Kafka's JSON message specs as a model for scripts/generate-protocol.mjs: comment
// stripping, version ranges, field types, loading and checking a spec, and field defaults.
// Plain Node ESM without dependencies, like the generator itself.

// ---------------------------------------------------------------------------------------------
// Spec files: JSON with // and /* */ comments.

export function stripComments(text) {
  let output = '';
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    if (inString) {
      output += char;
      if (char === '\\') output += text[++i];
      else if (char === '"') inString = false;
    } else if (char === '"') {
      inString = true;
      output += char;
    } else if (char === '/' && text[i + 1] === '/') {
      while (i < text.length && text[i] !== '\n') i++;
      output += '\n';
    } else if (char === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      if (end === -1) throw new Error('unterminated /* comment');
      i = end + 1;
    } else {
      output += char;
    }
  }
  return output;
}

// ---------------------------------------------------------------------------------------------
// Version ranges: { lowest, highest }, empty when lowest > highest. "3+" runs to Short.MAX_VALUE.

export const HIGHEST_VERSION = 0x7fff;
export const NONE = Object.freeze({ lowest: 1, highest: 0 });

export function parseVersions(text, fallback) {
  if (text === undefined || text === null) return fallback;
  const trimmed = String(text).trim();
  if (trimmed === '' || trimmed === 'none') return NONE;
  let match;
  if ((match = /^(\d+)\+$/.exec(trimmed))) return { lowest: Number(match[1]), highest: HIGHEST_VERSION };
  if ((match = /^(\d+)-(\d+)$/.exec(trimmed))) return { lowest: Number(match[1]), highest: Number(match[2]) };
  if ((match = /^(\d+)$/.exec(trimmed))) return { lowest: Number(match[1]), highest: Number(match[1]) };
  throw new Error(`bad version range ${JSON.stringify(text)}`);
}

export const isEmpty = (range) => range.lowest > range.highest;
export const intersect = (a, b) => ({ lowest: Math.max(a.lowest, b.lowest), highest: Math.min(a.highest, b.highest) });
export const covers = (outer, inner) => isEmpty(inner) || (outer.lowest <= inner.lowest && outer.highest >= inner.highest);
export const sameRange = (a, b) => (isEmpty(a) && isEmpty(b)) || (a.lowest === b.lowest && a.highest === b.highest);
export const hull = (a, b) => (isEmpty(a) ? b : isEmpty(b) ? a : { lowest: Math.min(a.lowest, b.lowest), highest: Math.max(a.highest, b.highest) });
/** `range` minus an open-ended `tail` (taggedVersions always runs to the end). */
export const minusTail = (range, tail) => (isEmpty(tail) ? range : { lowest: range.lowest, highest: Math.min(range.highest, tail.lowest - 1) });

export function describeRange(range) {
  if (isEmpty(range)) return 'none';
  if (range.highest === HIGHEST_VERSION) return `${range.lowest}+`;
  return range.lowest === range.highest ? `${range.lowest}` : `${range.lowest}-${range.highest}`;
}

/**
 * A TypeScript test for "version is in `range`", given that version is already known to be in
 * `context`: 'true' or 'false' when the answer is the same across the context.
 */
export function versionTest(range, context) {
  const within = intersect(range, context);
  if (isEmpty(within)) return 'false';
  if (covers(range, context)) return 'true';
  const lower = within.lowest > context.lowest;
  const upper = within.highest < context.highest;
  if (lower && upper) return within.lowest === within.highest ? `version === ${within.lowest}` : `version >= ${within.lowest} && version <= ${within.highest}`;
  return lower ? `version >= ${within.lowest}` : `version <= ${within.highest}`;
}

export function notVersionTest(range, context) {
  const within = intersect(range, context);
  if (isEmpty(within)) return 'true';
  if (covers(range, context)) return 'false';
  const lower = within.lowest > context.lowest;
  const upper = within.highest < context.highest;
  if (lower && upper) return `(version < ${within.lowest} || version > ${within.highest})`;
  return lower ? `version < ${within.lowest}` : `version > ${within.highest}`;
}

/** Every version in `range` (bounded by the context, which never runs to 0x7fff). */
export function* versionsIn(range) {
  for (let version = range.lowest; version <= range.highest; version++) yield version;
}

// ---------------------------------------------------------------------------------------------
// Types.

export const PRIMITIVES = {
  bool: { ts: 'boolean', read: 'readBoolean', write: 'writeBoolean', bytes: 1, zero: 'false' },
  int8: { ts: 'number', read: 'readInt8', write: 'writeInt8', bytes: 1, zero: '0', min: -128, max: 127 },
  int16: { ts: 'number', read: 'readInt16', write: 'writeInt16', bytes: 2, zero: '0', min: -32768, max: 32767 },
  uint16: { ts: 'number', read: 'readUInt16', write: 'writeUInt16', bytes: 2, zero: '0', min: 0, max: 65535 },
  int32: { ts: 'number', read: 'readInt32', write: 'writeInt32', bytes: 4, zero: '0', min: -2147483648, max: 2147483647 },
  uint32: { ts: 'number', read: 'readUInt32', write: 'writeUInt32', bytes: 4, zero: '0', min: 0, max: 4294967295 },
  int64: { ts: 'bigint', read: 'readInt64', write: 'writeInt64', bytes: 8, zero: '0n' },
  float64: { ts: 'number', read: 'readFloat64', write: 'writeFloat64', bytes: 8, zero: '0' },
  uuid: { ts: 'string', read: 'readUuid', write: 'writeUuid', bytes: 16, zero: 'ZERO_UUID' },
};
// Variable-length types: a length prefix, then data.
export const VARIABLE = new Set(['string', 'bytes', 'records']);

export function parseType(typeName) {
  if (typeName.startsWith('[]')) return { kind: 'array', element: parseType(typeName.slice(2)) };
  if (typeName in PRIMITIVES) return { kind: 'fixed', name: typeName };
  if (VARIABLE.has(typeName)) return { kind: typeName };
  if (/^[A-Z][A-Za-z0-9]*$/.test(typeName)) return { kind: 'struct', name: typeName };
  throw new Error(`unknown type ${typeName}`);
}

/** A single-quoted TypeScript string literal. */
export const quote = (text) => `'${JSON.stringify(text).slice(1, -1).replace(/\\"/g, '"').replace(/'/g, "\\'")}'`;
export const camelCase = (name) => name.charAt(0).toLowerCase() + name.slice(1);
export const kebabCase = (name) => name.replace(/([a-z0-9])([A-Z])/g, '$1-$2').replace(/([A-Z])([A-Z][a-z])/g, '$1-$2').toLowerCase();


// ---------------------------------------------------------------------------------------------
// Loading a spec into a model: structs (top level, inline, common) and their fields.

export function loadSpec(text, fileName) {
  const spec = JSON.parse(stripComments(text));
  const fail = (message) => { throw new Error(`${fileName}: ${message}`); };
  if (!spec.name || !spec.type) fail('a spec needs a name and a type');
  const validVersions = parseVersions(spec.validVersions, undefined);
  if (!validVersions || isEmpty(validVersions)) fail('validVersions is required');
  const flexibleVersions = parseVersions(spec.flexibleVersions, undefined);
  if (!flexibleVersions) fail('flexibleVersions is required');
  if (!isEmpty(flexibleVersions) && flexibleVersions.highest !== HIGHEST_VERSION) fail('flexibleVersions must be open-ended');
  const message = {
    name: spec.name,
    fileName,
    type: spec.type,
    apiKey: spec.apiKey ?? null,
    validVersions,
    deprecatedVersions: parseVersions(spec.deprecatedVersions, NONE),
    flexibleVersions,
    latestVersionUnstable: spec.latestVersionUnstable === true,
    structs: new Map(),
    top: undefined,
  };
  const commonSpecs = new Map((spec.commonStructs ?? []).map((common) => [common.name, common]));

  const defineStruct = (name, fieldSpecs, versions, where) => {
    const existing = message.structs.get(name);
    if (existing) {
      if (existing.fieldSpecs !== fieldSpecs) fail(`struct ${name} is defined twice (${where})`);
      return existing;
    }
    if (name === message.name) fail(`struct ${name} has the message's name`);
    const struct = { name, fieldSpecs, versions, context: NONE, fields: [] };
    message.structs.set(name, struct);
    struct.fields = fieldSpecs.map((fieldSpec) => loadField(fieldSpec, `${name}.${fieldSpec.name}`));
    return struct;
  };

  const loadField = (fieldSpec, where) => {
    const type = parseType(fieldSpec.type);
    const versions = parseVersions(fieldSpec.versions, undefined);
    if (!versions) fail(`${where}: versions is required`);
    const field = {
      name: fieldSpec.name,
      camel: camelCase(fieldSpec.name),
      where,
      about: fieldSpec.about ?? '',
      typeName: fieldSpec.type,
      type,
      versions,
      nullableVersions: parseVersions(fieldSpec.nullableVersions, NONE),
      taggedVersions: parseVersions(fieldSpec.taggedVersions, NONE),
      tag: fieldSpec.tag,
      ignorable: fieldSpec.ignorable === true,
      default: fieldSpec.default === undefined ? undefined : String(fieldSpec.default),
      flexibleOverride: parseVersions(fieldSpec.flexibleVersions, undefined),
      struct: undefined,
    };
    const structType = type.kind === 'struct' ? type : type.kind === 'array' && type.element.kind === 'struct' ? type.element : undefined;
    if (structType) {
      if (fieldSpec.fields) {
        field.struct = defineStruct(structType.name, fieldSpec.fields, versions, where);
      } else {
        const common = commonSpecs.get(structType.name);
        if (!common) fail(`${where}: no struct ${structType.name}`);
        field.struct = defineStruct(structType.name, common.fields, parseVersions(common.versions, { lowest: 0, highest: HIGHEST_VERSION }), where);
      }
    } else if (fieldSpec.fields) {
      fail(`${where}: only struct fields may have fields`);
    }
    checkField(field, fail);
    return field;
  };

  message.top = { name: message.name, fieldSpecs: spec.fields, versions: validVersions, context: NONE, fields: [] };
  message.top.fields = spec.fields.map((fieldSpec) => loadField(fieldSpec, `${message.name}.${fieldSpec.name}`));

  // Where each struct can appear: the versions of the fields leading to it, within validVersions.
  const visit = (struct, context) => {
    const widened = hull(struct.context, intersect(context, struct.versions));
    if (struct.visited && sameRange(widened, struct.context)) return;
    struct.visited = true;
    struct.context = widened;
    for (const field of struct.fields) if (field.struct) visit(field.struct, intersect(struct.context, field.versions));
  };
  visit(message.top, validVersions);
  for (const struct of [message.top, ...message.structs.values()]) {
    if (!struct.visited) fail(`struct ${struct.name} is never used`);
    checkTags(struct, message, fail);
  }
  return message;
}

export function checkField(field, fail) {
  const { type, where } = field;
  const nullableType = type.kind === 'string' || type.kind === 'bytes' || type.kind === 'records' || type.kind === 'array';
  if (!isEmpty(field.nullableVersions) && !nullableType) {
    fail(`${where}: ${field.typeName} cannot be nullable (nullable structs are not supported by this generator)`);
  }
  if (field.flexibleOverride && type.kind !== 'string' && type.kind !== 'bytes') fail(`${where}: only string and bytes fields may override flexibleVersions`);
  if (field.tag !== undefined) {
    if (!Number.isInteger(field.tag) || field.tag < 0) fail(`${where}: bad tag ${field.tag}`);
    if (isEmpty(field.taggedVersions)) fail(`${where}: a tag needs taggedVersions`);
    if (field.taggedVersions.highest !== HIGHEST_VERSION) fail(`${where}: taggedVersions must be open-ended`);
    if (!covers(field.versions, field.taggedVersions)) fail(`${where}: taggedVersions must be within versions`);
    if (type.kind === 'records') fail(`${where}: records cannot be tagged`);
    const nullableTagged = intersect(field.nullableVersions, field.taggedVersions);
    if (!isEmpty(nullableTagged) && !sameRange(nullableTagged, field.taggedVersions)) fail(`${where}: a tagged field is nullable in all its tagged versions or none`);
  } else if (!isEmpty(field.taggedVersions)) {
    fail(`${where}: taggedVersions without a tag`);
  }
  if (field.default === 'null' && isEmpty(field.nullableVersions)) fail(`${where}: default null needs nullableVersions`);
  defaultLiteral(field); // validates the default
}

export function checkTags(struct, message, fail) {
  const seen = new Map();
  for (const field of struct.fields) {
    if (field.tag === undefined) continue;
    if (seen.has(field.tag)) fail(`${field.where}: tag ${field.tag} is also used by ${seen.get(field.tag)}`);
    seen.set(field.tag, field.name);
    if (!covers(message.flexibleVersions, field.taggedVersions)) fail(`${field.where}: tagged versions must be flexible versions`);
  }
}

// ---------------------------------------------------------------------------------------------
// Defaults.

export function parseInteger(text, where) {
  const negative = text.startsWith('-');
  const digits = negative ? text.slice(1) : text;
  if (!/^(0x[0-9a-fA-F]+|\d+)$/.test(digits)) throw new Error(`${where}: bad integer default ${text}`);
  const magnitude = BigInt(digits);
  return negative ? -magnitude : magnitude;
}

/** The field's default as a TypeScript expression. */
export function defaultLiteral(field) {
  const { type, where } = field;
  const text = field.default;
  if (text === 'null') return 'null';
  switch (type.kind) {
    case 'fixed': {
      const primitive = PRIMITIVES[type.name];
      if (text === undefined || text === '') return primitive.zero;
      if (type.name === 'bool') {
        if (text !== 'true' && text !== 'false') throw new Error(`${where}: bad bool default ${text}`);
        return text;
      }
      if (type.name === 'uuid') {
        throw new Error(`${where}: uuid defaults other than zero are not supported`);
      }
      if (type.name === 'float64') {
        const number = Number(text);
        if (!Number.isFinite(number)) throw new Error(`${where}: bad float64 default ${text}`);
        return String(number);
      }
      const integer = parseInteger(text, where);
      if (type.name === 'int64') {
        if (integer < -(2n ** 63n) || integer >= 2n ** 63n) throw new Error(`${where}: default ${text} out of range`);
        return `${integer}n`;
      }
      if (integer < BigInt(primitive.min) || integer > BigInt(primitive.max)) throw new Error(`${where}: default ${text} out of range`);
      return String(integer);
    }
    case 'string':
      return quote(text ?? '');
    case 'bytes':
      if (text !== undefined && text !== '') throw new Error(`${where}: bytes defaults other than null or empty are not supported`);
      return 'new Uint8Array(0)';
    case 'records':
      // Kafka's records fields default to null.
      if (text !== undefined && text !== '') throw new Error(`${where}: records defaults other than null are not supported`);
      return 'null';
    case 'array':
      if (text !== undefined && text !== '') throw new Error(`${where}: array defaults other than null or empty are not supported`);
      return '[]';
    case 'struct':
      if (text !== undefined && text !== '') throw new Error(`${where}: struct defaults are not supported`);
      return `default${type.name}()`;
  }
  throw new Error(`${where}: no default for ${field.typeName}`);
}

export const canBeNull = (field, context) => !isEmpty(intersect(field.nullableVersions, intersect(field.versions, context)));

export const versionIn = (range, version) => version >= range.lowest && version <= range.highest;
