#!/usr/bin/env node
// Generates the Kafka wire codecs in src/protocol/generated/messages/ from Apache Kafka's message
// specs in protocol-specs/message/*.json: one file per message plus index.ts.
// Usage: node scripts/generate-protocol.mjs [--check]   (--check: fail if any file would change)
//
// Each spec field lists the versions it exists in (`versions`), may be null in
// (`nullableVersions`), and travels as a tagged field in (`taggedVersions`, `tag`); the message
// lists where compact encodings and tagged-field sections start (`flexibleVersions`). The
// generated code turns each of those facts into a version test, dropping the tests that are
// always true where the struct can appear, so a field present in every version reads as plain
// `writer.writeInt32(value.partition)`. Semantics follow Kafka's own generator
// (generator/src/main/java/org/apache/kafka/message/MessageDataGenerator.java):
// - a field absent from a version decodes to its default; encoding a non-default value for it
//   fails unless the field is `ignorable`;
// - a tagged field is written only when it differs from its default;
// - a known tag in a version where the field is not tagged is an error; unknown tags are skipped.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import path from 'node:path';
import {
  canBeNull, covers, defaultLiteral, describeRange, intersect, isEmpty, kebabCase, loadSpec, minusTail, notVersionTest,
  PRIMITIVES, sameRange, versionIn, versionsIn, versionTest,
} from './protocol-spec.mjs';

export { loadSpec, stripComments } from './protocol-spec.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const specDirectory = path.join(root, 'protocol-specs/message');
const targetDirectory = path.join(root, 'src/protocol/generated/messages');
const GENERATOR = 'scripts/generate-protocol.mjs';

// ---------------------------------------------------------------------------------------------
// Default tests in generated code.

/** A TypeScript test that `expression` differs from the field's default (Kafka's non-default check). */
function differsFromDefault(field, expression, context) {
  const literal = defaultLiteral(field);
  const nullable = canBeNull(field, context);
  switch (field.type.kind) {
    case 'array':
    case 'bytes':
    case 'records':
      if (literal === 'null') return `${expression} !== null`;
      return nullable ? `(${expression} === null || ${expression}.length !== 0)` : `${expression}.length !== 0`;
    case 'struct':
      return `!isDefault${field.type.name}(${expression})`;
    default:
      return `${expression} !== ${literal}`;
  }
}

function equalsDefault(field, expression, context) {
  const literal = defaultLiteral(field);
  const nullable = canBeNull(field, context);
  switch (field.type.kind) {
    case 'array':
    case 'bytes':
    case 'records':
      if (literal === 'null') return `${expression} === null`;
      return nullable ? `(${expression} !== null && ${expression}.length === 0)` : `${expression}.length === 0`;
    case 'struct':
      return `isDefault${field.type.name}(${expression})`;
    default:
      return `${expression} === ${literal}`;
  }
}

// ---------------------------------------------------------------------------------------------
// Per-struct facts used while emitting.

const RESERVED = new Set([
  'break', 'case', 'catch', 'class', 'const', 'continue', 'debugger', 'default', 'delete', 'do', 'else', 'enum', 'export',
  'extends', 'false', 'finally', 'for', 'function', 'if', 'import', 'in', 'instanceof', 'new', 'null', 'return', 'super',
  'switch', 'this', 'throw', 'true', 'try', 'typeof', 'var', 'void', 'while', 'with', 'yield', 'let', 'static', 'await',
  'implements', 'interface', 'package', 'private', 'protected', 'public', 'arguments', 'eval', 'undefined',
  // names a generated decode function uses for itself
  'reader', 'version', 'flexible', 'tag',
]);
const localName = (camel) => (RESERVED.has(camel) ? `${camel}Field` : camel);
const indent = (text, prefix = '  ') => text.split('\n').map((line) => prefix + line).join('\n');

/** Versions of the struct's context in which the field is written outside the tagged section. */
const untaggedVersions = (field, struct) => intersect(minusTail(field.versions, field.taggedVersions), struct.context);
const taggedVersionsIn = (field, struct) => intersect(field.taggedVersions, struct.context);
const isTagged = (field, struct) => !isEmpty(taggedVersionsIn(field, struct));
const isOptional = (field, struct) => !covers(field.versions, struct.context) || isTagged(field, struct);

function tsType(field, struct) {
  const { type } = field;
  const base = (t) => {
    switch (t.kind) {
      case 'fixed': return PRIMITIVES[t.name].ts;
      case 'string': return 'string';
      case 'bytes':
      case 'records': return 'Uint8Array';
      case 'struct': return t.name;
      case 'array': return `${base(t.element)}[]`;
    }
    throw new Error(`no TypeScript type for ${t.kind}`);
  };
  const nullable = canBeNull(field, struct.context) || defaultLiteral(field) === 'null';
  return nullable ? `${base(type)} | null` : base(type);
}

/** Fewest bytes one encoded value of `type` takes in `version`. */
function minimumBytes(message, type, version, compact) {
  switch (type.kind) {
    case 'fixed': return PRIMITIVES[type.name].bytes;
    case 'string': return compact ? 1 : 2;
    case 'bytes':
    case 'records':
    case 'array': return compact ? 1 : 4;
    case 'struct': return minimumStructBytes(message, message.structs.get(type.name), version);
  }
  throw new Error(`no size for ${type.kind}`);
}

function minimumStructBytes(message, struct, version) {
  const flexible = versionIn(message.flexibleVersions, version);
  let bytes = flexible ? 1 : 0; // the tagged-field count
  for (const field of struct.fields) {
    if (!versionIn(minusTail(field.versions, field.taggedVersions), version)) continue;
    bytes += minimumBytes(message, field.type, version, versionIn(field.flexibleOverride ?? message.flexibleVersions, version));
  }
  return bytes;
}

// ---------------------------------------------------------------------------------------------
// Emitting one message.

class Emitter {
  constructor(message) {
    this.message = message;
  }

  /** 'true', 'false' or 'flexible' (the function's local) for the field's encoding. */
  compactFor(field, versions, usesFlexible) {
    if (field.flexibleOverride) return versionTest(field.flexibleOverride, versions);
    const test = versionTest(this.message.flexibleVersions, versions);
    if (test === 'true' || test === 'false') return test;
    usesFlexible.value = true;
    return 'flexible';
  }

  /** The expression reading one value of the field's type. */
  readExpression(field, struct, versions, usesFlexible) {
    const compact = field.type.kind === 'fixed' || field.type.kind === 'struct' ? 'false' : this.compactFor(field, versions, usesFlexible);
    const nullableTest = versionTest(field.nullableVersions, versions);
    const read = (nullable) => this.readType(field, field.type, compact, nullable, versions);
    if (nullableTest === 'true') return read(true);
    if (nullableTest === 'false') return read(false);
    return `${nullableTest} ? ${read(true)} : ${read(false)}`;
  }

  readType(field, type, compact, nullable, versions) {
    switch (type.kind) {
      case 'fixed':
        return `reader.${PRIMITIVES[type.name].read}()`;
      case 'string':
        return `reader.${nullable ? 'readNullableString' : 'readString'}(${compact})`;
      case 'bytes':
      case 'records':
        return `reader.${nullable ? 'readNullableBytes' : 'readBytes'}(${compact})`;
      case 'struct':
        return `read${type.name}(reader, version)`;
      case 'array': {
        const element = this.readType(field, type.element, compact, false, versions);
        let minimum = Infinity;
        for (const version of versionsIn(versions)) {
          const elementCompact = versionIn(field.flexibleOverride ?? this.message.flexibleVersions, version);
          minimum = Math.min(minimum, minimumBytes(this.message, type.element, version, elementCompact));
        }
        return `reader.${nullable ? 'readNullableArray' : 'readArray'}(${compact}, ${Math.max(1, minimum)}, () => ${element})`;
      }
    }
    throw new Error(`cannot read ${type.kind}`);
  }

  /** The statement writing `expression` as the field's type. */
  writeStatement(field, struct, expression, versions, usesFlexible) {
    const compact = field.type.kind === 'fixed' || field.type.kind === 'struct' ? 'false' : this.compactFor(field, versions, usesFlexible);
    const nullableTest = versionTest(field.nullableVersions, versions);
    const typeAllowsNull = tsType(field, struct).endsWith('| null');
    const write = (nullable) => {
      let argument = expression;
      if (!nullable && typeAllowsNull) {
        argument = `nonNull(${expression}, '${struct.name}.${field.camel}', version)`;
      }
      return this.writeType(field.type, argument, compact, nullable);
    };
    if (nullableTest === 'true') return `${write(true)};`;
    if (nullableTest === 'false') return `${write(false)};`;
    return `if (${nullableTest}) ${write(true)};\nelse ${write(false)};`;
  }

  writeType(type, expression, compact, nullable) {
    switch (type.kind) {
      case 'fixed':
        return `writer.${PRIMITIVES[type.name].write}(${expression})`;
      case 'string':
        return `writer.${nullable ? 'writeNullableString' : 'writeString'}(${expression}, ${compact})`;
      case 'bytes':
        return `writer.${nullable ? 'writeNullableBytes' : 'writeBytes'}(${expression}, ${compact})`;
      case 'records':
        // Record sets may be kept by reference rather than copied (ProtocolWriter.chunks()).
        return `writer.${nullable ? 'writeNullableRecords' : 'writeRecords'}(${expression}, ${compact})`;
      case 'struct':
        return `write${type.name}(writer, ${expression}, version)`;
      case 'array': {
        const element = this.writeType(type.element, 'element', compact, false);
        return `writer.${nullable ? 'writeNullableArray' : 'writeArray'}(${expression}, ${compact}, (element) => ${element})`;
      }
    }
    throw new Error(`cannot write ${type.kind}`);
  }

  // --- interfaces ------------------------------------------------------------------------------

  interfaceSource(struct, heading) {
    const lines = [...docComment(heading, ''), `export interface ${struct.name} {`];
    for (const field of struct.fields) {
      lines.push(...docComment(field.about, fieldNotes(field, struct), '  '));
      lines.push(`  ${field.camel}${isOptional(field, struct) ? '?' : ''}: ${tsType(field, struct)};`);
    }
    lines.push('}');
    return lines.join('\n');
  }

  // --- encoding --------------------------------------------------------------------------------

  encodeBody(struct, valueName) {
    const usesFlexible = { value: false };
    const context = struct.context;
    const body = [];
    for (const field of struct.fields) {
      const access = `${valueName}.${field.camel}`;
      const untagged = untaggedVersions(field, struct);
      const present = versionTest(untagged, context);
      let valueExpression = access;
      if (isOptional(field, struct)) {
        // An optional field left out of the object is written as its default.
        const literal = defaultLiteral(field);
        valueExpression = tsType(field, struct).endsWith('| null') && literal !== 'null'
          ? `${access} === undefined ? ${literal} : ${access}`
          : `${access} ?? ${literal}`;
      }
      // An ignorable field silently drops from versions without it; any other must be default there.
      const absent = notVersionTest(field.versions, context);
      const mustBeDefault = !field.ignorable && absent !== 'false'
        ? `${access} !== undefined && ${differsFromDefault(field, access, context)}`
        : undefined;
      const guard = mustBeDefault ? `throw nonIgnorableField('${struct.name}.${field.camel}', version)` : undefined;

      if (present === 'false') {
        if (guard) body.push(`if (${absent} && ${mustBeDefault}) ${guard};`);
        continue;
      }
      const statement = this.writeStatement(field, struct, valueExpression, untagged, usesFlexible);
      if (present === 'true') {
        body.push(statement);
        continue;
      }
      body.push(statement.includes('\n') ? `if (${present}) {\n${indent(statement)}\n}` : `if (${present}) ${statement}`);
      if (guard && sameRange(intersect(field.versions, context), untagged)) body.push(`else if (${mustBeDefault}) ${guard};`);
      else if (guard) body.push(`if (${absent} && ${mustBeDefault}) ${guard};`);
    }
    body.push(...this.encodeTaggedFields(struct, valueName, usesFlexible));
    return { body, usesFlexible: usesFlexible.value };
  }

  encodeTaggedFields(struct, valueName, usesFlexible) {
    const flexibleTest = versionTest(this.message.flexibleVersions, struct.context);
    if (flexibleTest === 'false') return [];
    const tagged = struct.fields.filter((field) => isTagged(field, struct)).sort((a, b) => a.tag - b.tag);
    const lines = [];
    if (tagged.length === 0) {
      lines.push('writer.writeUnsignedVarint(0); // no tagged fields');
    } else {
      lines.push('const taggedFields = writer.beginTaggedFields();', 'let taggedFieldCount = 0;');
      const flexibleContext = intersect(this.message.flexibleVersions, struct.context);
      for (const field of tagged) {
        const access = `${valueName}.${field.camel}`;
        const versions = taggedVersionsIn(field, struct);
        const tests = [];
        const inVersions = versionTest(versions, flexibleContext);
        if (inVersions !== 'true') tests.push(inVersions);
        tests.push(`${access} !== undefined`, differsFromDefault(field, access, struct.context));
        lines.push(
          `if (${tests.join(' && ')}) {`,
          `  const start = writer.beginTaggedField(${field.tag});`,
          indent(this.writeStatement(field, struct, access, versions, usesFlexible)),
          '  writer.endTaggedField(start);',
          '  taggedFieldCount++;',
          '}',
        );
      }
      lines.push('writer.endTaggedFields(taggedFields, taggedFieldCount);');
    }
    if (flexibleTest === 'true') return lines;
    usesFlexible.value = true;
    if (lines.length === 1) return [`if (flexible) ${lines[0]}`];
    return ['if (flexible) {', ...lines.map((line) => indent(line)), '}'];
  }

  // --- decoding --------------------------------------------------------------------------------

  decodeBody(struct) {
    const usesFlexible = { value: false };
    const context = struct.context;
    const body = [];
    const tagged = struct.fields.filter((field) => isTagged(field, struct)).sort((a, b) => a.tag - b.tag);
    for (const field of struct.fields) {
      const local = localName(field.camel);
      const untagged = untaggedVersions(field, struct);
      const present = versionTest(untagged, context);
      const keyword = tagged.includes(field) ? 'let' : 'const';
      // Tagged fields are assigned later; a lone default like [] needs its type spelled out.
      const typeNote = keyword === 'let' || present === 'false' ? `: ${tsType(field, struct)}` : '';
      if (present === 'true') {
        body.push(`${keyword} ${local}${typeNote} = ${this.readExpression(field, struct, untagged, usesFlexible)};`);
      } else {
        const fallback = defaultLiteral(field);
        if (present === 'false') body.push(`${keyword} ${local}${typeNote} = ${fallback};`);
        else body.push(`${keyword} ${local}${typeNote} = ${present} ? ${this.readExpression(field, struct, untagged, usesFlexible)} : ${fallback};`);
      }
    }
    body.push(...this.decodeTaggedFields(struct, tagged, usesFlexible));
    const properties = struct.fields.map((field) => (localName(field.camel) === field.camel ? field.camel : `${field.camel}: ${localName(field.camel)}`));
    body.push(`return { ${properties.join(', ')} };`);
    return { body, usesFlexible: usesFlexible.value };
  }

  decodeTaggedFields(struct, tagged, usesFlexible) {
    const flexibleTest = versionTest(this.message.flexibleVersions, struct.context);
    if (flexibleTest === 'false') return [];
    let lines;
    if (tagged.length === 0) {
      lines = ['reader.skipTaggedFields();'];
    } else {
      const flexibleContext = intersect(this.message.flexibleVersions, struct.context);
      lines = ['reader.readTaggedFields((tag) => {', '  switch (tag) {'];
      for (const field of tagged) {
        const versions = taggedVersionsIn(field, struct);
        const outside = notVersionTest(versions, flexibleContext);
        lines.push(`    case ${field.tag}:`);
        if (outside !== 'false') {
          lines.push(`      if (${outside}) throw new ProtocolDecodeError(\`tag ${field.tag} (${field.camel}) is not valid in version \${version}\`);`);
        }
        lines.push(`      ${localName(field.camel)} = ${this.readExpression(field, struct, versions, usesFlexible)};`, '      return true;');
      }
      lines.push('    default:', '      return false;', '  }', '});');
    }
    if (flexibleTest === 'true') return lines;
    usesFlexible.value = true;
    if (lines.length === 1) return [`if (flexible) ${lines[0]}`];
    return ['if (flexible) {', ...lines.map((line) => indent(line)), '}'];
  }

  // --- the file --------------------------------------------------------------------------------

  flexibleLocal(struct) {
    return `const flexible = ${versionTest(this.message.flexibleVersions, struct.context)};`;
  }

  functionSource(signature, { body, usesFlexible }, struct, prelude = []) {
    const lines = [signature, ...prelude.map((line) => `  ${line}`)];
    if (usesFlexible) lines.push(`  ${this.flexibleLocal(struct)}`);
    for (const statement of body) for (const line of statement.split('\n')) lines.push(`  ${line}`);
    lines.push('}');
    return lines.join('\n');
  }

  source() {
    const message = this.message;
    const top = message.top;
    const name = message.name;
    const nested = [...message.structs.values()];
    const valid = message.validVersions;
    const versionGuard = `!Number.isInteger(version) || version < ${valid.lowest} || version > ${valid.highest}`;

    const sections = [];
    sections.push(this.interfaceSource(top, messageHeading(message)));
    for (const struct of nested) sections.push(this.interfaceSource(struct, ''));

    const firstFlexible = isEmpty(message.flexibleVersions) ? 'null' : String(message.flexibleVersions.lowest);
    const deprecated = isEmpty(message.deprecatedVersions) ? 'null' : `{ lowest: ${message.deprecatedVersions.lowest}, highest: ${message.deprecatedVersions.highest} }`;
    sections.push([
      `export const ${name}Codec = {`,
      `  name: '${name}',`,
      `  apiKey: ${message.apiKey === null ? 'null' : message.apiKey},`,
      `  validVersions: { lowest: ${valid.lowest}, highest: ${valid.highest} },`,
      `  deprecatedVersions: ${deprecated},`,
      `  firstFlexibleVersion: ${firstFlexible},`,
      `  latestVersionUnstable: ${message.latestVersionUnstable},`,
      `  encode: encode${name},`,
      `  decode: decode${name},`,
      `} as const satisfies MessageCodec<${name}>;`,
    ].join('\n'));

    sections.push(this.functionSource(
      `export function encode${name}(writer: ProtocolWriter, value: ${name}, version: number): void {`,
      this.encodeBody(top, 'value'),
      top,
      [`if (${versionGuard}) throw new ProtocolEncodeError(\`${name} has no version \${version} (valid: ${describeRange(valid)})\`);`],
    ));
    sections.push(this.functionSource(
      `export function decode${name}(reader: ProtocolReader, version: number): ${name} {`,
      this.decodeBody(top),
      top,
      [`if (${versionGuard}) throw new ProtocolDecodeError(\`${name} has no version \${version} (valid: ${describeRange(valid)})\`);`],
    ));

    for (const struct of nested) {
      sections.push(this.functionSource(
        `function write${struct.name}(writer: ProtocolWriter, value: ${struct.name}, version: number): void {`,
        this.encodeBody(struct, 'value'),
        struct,
      ));
      sections.push(this.functionSource(
        `function read${struct.name}(reader: ProtocolReader, version: number): ${struct.name} {`,
        this.decodeBody(struct),
        struct,
      ));
    }
    // Plain (non-array) struct fields need a default value and a default test, when used.
    const plainStructs = new Set();
    for (const struct of [top, ...nested]) for (const field of struct.fields) if (field.type.kind === 'struct') plainStructs.add(field.struct);
    const helpers = new Map();
    for (const struct of plainStructs) {
      const defaults = struct.fields.map((field) => `${field.camel}: ${defaultLiteral(field)}`);
      helpers.set(`default${struct.name}(`, `function default${struct.name}(): ${struct.name} {\n  return { ${defaults.join(', ')} };\n}`);
      const tests = struct.fields.map((field) => {
        const access = `value.${field.camel}`;
        const test = equalsDefault(field, access, struct.context);
        return isOptional(field, struct) ? `(${access} === undefined || ${test})` : test;
      });
      helpers.set(`isDefault${struct.name}(`, `function isDefault${struct.name}(value: ${struct.name}): boolean {\n  return ${tests.join('\n    && ')};\n}`);
    }
    for (let added = true; added;) {
      added = false;
      for (const [call, helper] of helpers) {
        if (sections.some((section) => section.includes(call)) && !sections.includes(helper)) {
          sections.push(helper);
          added = true;
        }
      }
    }

    const text = sections.join('\n');
    const used = (identifier) => new RegExp(`\\b${identifier}\\b`).test(text);
    const named = (candidates, typeOnly) => [...candidates.filter(used), ...typeOnly.map((name) => `type ${name}`)].join(', ');
    const importLines = [
      `import type { MessageCodec } from '../../message-codec.js';`,
      `import { ${named(['ProtocolDecodeError'], ['ProtocolReader'])} } from '../../reader.js';`,
      used('ZERO_UUID') ? `import { ZERO_UUID } from '../../uuid.js';` : undefined,
      `import { ${named(['nonIgnorableField', 'nonNull', 'ProtocolEncodeError'], ['ProtocolWriter'])} } from '../../writer.js';`,
    ].filter(Boolean);
    return [
      `// Generated by ${GENERATOR} from protocol-specs/message/${message.fileName}. Do not edit.`,
      importLines.join('\n'),
      ...sections,
    ].join('\n\n') + '\n';
  }
}

function messageHeading(message) {
  const parts = [];
  if (message.apiKey !== null) parts.push(`API key ${message.apiKey}`);
  parts.push(`versions ${describeRange(message.validVersions)}`);
  parts.push(isEmpty(message.flexibleVersions) ? 'never flexible' : `flexible from ${message.flexibleVersions.lowest}`);
  if (!isEmpty(message.deprecatedVersions)) parts.push(`deprecated ${describeRange(message.deprecatedVersions)}`);
  const kind = { request: 'request', response: 'response', header: 'header', data: 'record' }[message.type] ?? message.type;
  return `${message.name} (${kind}): ${parts.join(', ')}.`;
}

function fieldNotes(field, struct) {
  const notes = [];
  if (!covers(field.versions, struct.context)) {
    const single = field.versions.lowest === field.versions.highest;
    notes.push(`${single ? 'Version' : 'Versions'} ${describeRange(field.versions)}.`);
  }
  const nullable = intersect(field.nullableVersions, field.versions);
  if (!isEmpty(intersect(nullable, struct.context))) {
    notes.push(covers(nullable, intersect(field.versions, struct.context)) ? 'Nullable.' : `Nullable in versions ${describeRange(nullable)}.`);
  }
  if (field.tag !== undefined) notes.push(`Tagged field ${field.tag} in versions ${describeRange(field.taggedVersions)}.`);
  if (field.default !== undefined) notes.push(`Default ${field.default}.`);
  if (field.flexibleOverride) notes.push(`Compact only in versions ${describeRange(field.flexibleOverride)}.`);
  if (isOptional(field, struct) && !field.ignorable && !covers(field.versions, struct.context)) notes.push('Must be the default in other versions.');
  return notes.join(' ');
}

const LINE_WIDTH = 100;

function docComment(text, notes, indent = '') {
  const sentence = text.trim() && !/[.!?]$/.test(text.trim()) ? `${text.trim()}.` : text.trim();
  const content = [sentence, notes].filter(Boolean).join(' ').replace(/\*\//g, '*\\/');
  if (!content) return [];
  const single = `${indent}/** ${content} */`;
  if (single.length <= LINE_WIDTH) return [single];
  const lines = [`${indent}/**`];
  let line = `${indent} *`;
  for (const word of content.split(/\s+/)) {
    if (line.length + 1 + word.length > LINE_WIDTH && line !== `${indent} *`) {
      lines.push(line);
      line = `${indent} *`;
    }
    line += ` ${word}`;
  }
  lines.push(line, `${indent} */`);
  return lines;
}

// ---------------------------------------------------------------------------------------------
// The index: every message's codec and top-level type, and the request/response pairs by API key.

function indexSource(messages) {
  const lines = [`// Generated by ${GENERATOR} from protocol-specs/message/*.json. Do not edit.`, ''];
  lines.push(`import type { MessageCodec } from '../../message-codec.js';`);
  for (const message of messages) {
    lines.push(`import { ${message.name}Codec } from './${kebabCase(message.name)}.js';`);
  }
  lines.push('');
  for (const message of messages) {
    const name = message.name;
    lines.push(`export { ${name}Codec, encode${name}, decode${name}, type ${name} } from './${kebabCase(name)}.js';`);
  }
  const apis = new Map();
  for (const message of messages) {
    if (message.apiKey === null) continue;
    const apiName = message.name.replace(/(Request|Response)$/, '');
    const entry = apis.get(message.apiKey) ?? { apiKey: message.apiKey, apiName };
    if (entry.apiName !== apiName) throw new Error(`API key ${message.apiKey} is both ${entry.apiName} and ${apiName}`);
    entry[message.type] = message.name;
    apis.set(message.apiKey, entry);
  }
  lines.push(
    '',
    'export interface ApiCodecs {',
    '  readonly apiKey: number;',
    '  /** The name without Request/Response, e.g. "Fetch". */',
    '  readonly apiName: string;',
    '  readonly request: MessageCodec<unknown>;',
    '  readonly response: MessageCodec<unknown>;',
    '}',
    '',
    '/** Every API with generated codecs, by ascending API key. */',
    'export const API_CODECS: readonly ApiCodecs[] = [',
  );
  for (const entry of [...apis.values()].sort((a, b) => a.apiKey - b.apiKey)) {
    if (!entry.request || !entry.response) throw new Error(`API ${entry.apiName} needs both a request and a response spec`);
    lines.push(`  { apiKey: ${entry.apiKey}, apiName: '${entry.apiName}', request: ${entry.request}Codec, response: ${entry.response}Codec },`);
  }
  lines.push(
    '];',
    '',
    'const byApiKey = new Map(API_CODECS.map((codecs) => [codecs.apiKey, codecs]));',
    '',
    'export function codecsForApiKey(apiKey: number): ApiCodecs | undefined {',
    '  return byApiKey.get(apiKey);',
    '}',
    '',
  );
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------------

/** Every generated file: name (relative to the messages directory) to contents. */
export function generate(directory = specDirectory) {
  const files = new Map();
  const messages = readdirSync(directory)
    .filter((file) => file.endsWith('.json'))
    .sort()
    .map((file) => loadSpec(readFileSync(path.join(directory, file), 'utf8'), file));
  for (const message of messages) files.set(`${kebabCase(message.name)}.ts`, new Emitter(message).source());
  files.set('index.ts', indexSource(messages));
  return files;
}

/** Generates one message's source from spec text (for tests of the generator itself). */
export function generateMessageSource(specText, fileName = 'inline.json') {
  return new Emitter(loadSpec(specText, fileName)).source();
}

function main() {
  const files = generate();
  const existing = existsSync(targetDirectory) ? readdirSync(targetDirectory).filter((file) => file.endsWith('.ts')) : [];
  const relative = (file) => path.relative(root, path.join(targetDirectory, file));
  if (process.argv.includes('--check')) {
    const problems = [];
    for (const [file, contents] of files) {
      const target = path.join(targetDirectory, file);
      if (!existsSync(target)) problems.push(`${relative(file)} is missing`);
      else if (readFileSync(target, 'utf8') !== contents) problems.push(`${relative(file)} is stale`);
    }
    for (const file of existing) if (!files.has(file)) problems.push(`${relative(file)} has no spec`);
    if (problems.length > 0) {
      console.error(`${problems.join('\n')}\nrun node ${GENERATOR}`);
      process.exit(1);
    }
    return;
  }
  mkdirSync(targetDirectory, { recursive: true });
  for (const file of existing) if (!files.has(file)) rmSync(path.join(targetDirectory, file));
  for (const [file, contents] of files) {
    const target = path.join(targetDirectory, file);
    if (!existsSync(target) || readFileSync(target, 'utf8') !== contents) writeFileSync(target, contents);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) main();
