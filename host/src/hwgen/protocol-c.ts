/**
 * The C11 binding of the protocol for the firmware (firmware/gen/tl_protocol.{h,c}): constants,
 * message ids, error codes and texts, and one struct with a bounds-checked decoder and encoder
 * per message. Decoders never copy variable-length data: strings, blobs and arrays are views
 * into the payload (arrays stay little-endian; read them with tl_proto_u32s_get /
 * tl_proto_f32s_get). Encoders take arrays either as such a view or as host-order C arrays.
 */

import type { DocMessage, ProtocolSpec } from './protocol-spec.js';
import type { FieldSpec } from '../protocol/spec-types.js';

export const PROTOCOL_H_OUT = 'firmware/gen/tl_protocol.h';
export const PROTOCOL_C_OUT = 'firmware/gen/tl_protocol.c';

const hex = (n: number, w = 8) => '0x' + n.toString(16).toUpperCase().padStart(w, '0') + 'u';
const lower = (s: string) => s.toLowerCase();

/** A C string literal (ASCII; anything else as an escape). */
export function cString(s: string): string {
  let out = '"';
  for (const byte of Buffer.from(s, 'utf8')) {
    if (byte === 0x22) out += '\\"';
    else if (byte === 0x5c) out += '\\\\';
    else if (byte >= 0x20 && byte < 0x7f && byte !== 0x3f) out += String.fromCharCode(byte);
    else out += '\\' + byte.toString(8).padStart(3, '0');
  }
  return out + '"';
}

function cComment(text: string, indent = ''): string {
  return `${indent}/* ${text.replace(/\*\//g, '* /')} */`;
}

const C_SCALAR: Record<string, string> = { u8: 'uint8_t', u16: 'uint16_t', u32: 'uint32_t', u64: 'uint64_t', i32: 'int32_t', f32: 'float', f64: 'double' };

function cMember(f: FieldSpec): string {
  switch (f.type) {
    case 'bytes':
      return `uint8_t ${f.name}[${f.size}];`;
    case 'str':
      return `tl_proto_str_t ${f.name};`;
    case 'blob':
      return `tl_proto_blob_t ${f.name};`;
    case 'u32[]':
      return `tl_proto_u32s_t ${f.name};`;
    case 'f32[]':
      return `tl_proto_f32s_t ${f.name};`;
    default:
      return `${C_SCALAR[f.type]} ${f.name};`;
  }
}

const maxName = (m: DocMessage, f: FieldSpec) => `TL_PROTO_${m.name}_${f.name.toUpperCase()}_MAX`;

function decodeField(m: DocMessage, f: FieldSpec): string[] {
  const o = `out->${f.name}`;
  switch (f.type) {
    case 'u8':
      return [`TL_NEED(1u); ${o} = p[off]; off += 1u;`];
    case 'u16':
      return [`TL_NEED(2u); ${o} = tl_proto_get_u16(p + off); off += 2u;`];
    case 'u32':
      return [`TL_NEED(4u); ${o} = tl_proto_get_u32(p + off); off += 4u;`];
    case 'i32':
      return [`TL_NEED(4u); ${o} = (int32_t)tl_proto_get_u32(p + off); off += 4u;`];
    case 'u64':
      return [`TL_NEED(8u); ${o} = tl_proto_get_u64(p + off); off += 8u;`, `if (${o} > TL_PROTO_U64_MAX) return TL_PROTO_E_MAX;`];
    case 'f32':
      return [`TL_NEED(4u); ${o} = tl_proto_get_f32(p + off); off += 4u;`];
    case 'f64':
      return [`TL_NEED(8u); ${o} = tl_proto_get_f64(p + off); off += 8u;`];
    case 'bytes':
      return [`TL_NEED(${f.size}u); memcpy(${o}, p + off, ${f.size}u); off += ${f.size}u;`];
    case 'str':
      return [
        `TL_NEED(2u); n = tl_proto_get_u16(p + off); off += 2u;`,
        `if (n > ${maxName(m, f)}) return TL_PROTO_E_MAX;`,
        `TL_NEED(n); if (!tl_proto_utf8_valid(p + off, n)) return TL_PROTO_E_UTF8;`,
        `${o}.data = (const char *)(p + off); ${o}.len = n; off += n;`,
      ];
    case 'blob':
      return [
        `TL_NEED(4u); n = tl_proto_get_u32(p + off); off += 4u;`,
        `if (n > ${maxName(m, f)}) return TL_PROTO_E_MAX;`,
        `TL_NEED(n); ${o}.data = p + off; ${o}.len = n; off += n;`,
      ];
    case 'u32[]':
    case 'f32[]':
      return [
        `TL_NEED(4u); n = tl_proto_get_u32(p + off); off += 4u;`,
        `if (n > ${maxName(m, f)}) return TL_PROTO_E_MAX;`,
        `TL_NEED(4u * n); ${o}.le = p + off; ${o}.host = NULL; ${o}.count = n; off += 4u * n;`,
      ];
  }
}

function encodeField(m: DocMessage, f: FieldSpec): string[] {
  const v = `m->${f.name}`;
  switch (f.type) {
    case 'u8':
      return [`TL_ROOM(1u); buf[off] = ${v}; off += 1u;`];
    case 'u16':
      return [`TL_ROOM(2u); tl_proto_put_u16(buf + off, ${v}); off += 2u;`];
    case 'u32':
      return [`TL_ROOM(4u); tl_proto_put_u32(buf + off, ${v}); off += 4u;`];
    case 'i32':
      return [`TL_ROOM(4u); tl_proto_put_u32(buf + off, (uint32_t)${v}); off += 4u;`];
    case 'u64':
      return [`if (${v} > TL_PROTO_U64_MAX) return TL_PROTO_E_ARG;`, `TL_ROOM(8u); tl_proto_put_u64(buf + off, ${v}); off += 8u;`];
    case 'f32':
      return [`TL_ROOM(4u); tl_proto_put_f32(buf + off, ${v}); off += 4u;`];
    case 'f64':
      return [`TL_ROOM(8u); tl_proto_put_f64(buf + off, ${v}); off += 8u;`];
    case 'bytes':
      return [`TL_ROOM(${f.size}u); memcpy(buf + off, ${v}, ${f.size}u); off += ${f.size}u;`];
    case 'str':
      return [
        `if (${v}.len > ${maxName(m, f)} || (${v}.len > 0u && ${v}.data == NULL)) return TL_PROTO_E_ARG;`,
        `TL_ROOM(2u + ${v}.len); tl_proto_put_u16(buf + off, (uint16_t)${v}.len); off += 2u;`,
        `if (${v}.len > 0u) { memcpy(buf + off, ${v}.data, ${v}.len); }`,
        `off += ${v}.len;`,
      ];
    case 'blob':
      return [
        `if (${v}.len > ${maxName(m, f)} || (${v}.len > 0u && ${v}.data == NULL)) return TL_PROTO_E_ARG;`,
        `TL_ROOM(4u + ${v}.len); tl_proto_put_u32(buf + off, ${v}.len); off += 4u;`,
        `if (${v}.len > 0u) { memcpy(buf + off, ${v}.data, ${v}.len); }`,
        `off += ${v}.len;`,
      ];
    case 'u32[]':
    case 'f32[]': {
      const get = f.type === 'u32[]' ? 'tl_proto_u32s_get' : 'tl_proto_f32s_get';
      const put = f.type === 'u32[]' ? 'tl_proto_put_u32' : 'tl_proto_put_f32';
      return [
        `if (${v}.count > ${maxName(m, f)} || (${v}.count > 0u && ${v}.host == NULL && ${v}.le == NULL)) return TL_PROTO_E_ARG;`,
        `TL_ROOM(4u + 4u * ${v}.count); tl_proto_put_u32(buf + off, ${v}.count); off += 4u;`,
        `for (i = 0u; i < ${v}.count; i++) { ${put}(buf + off, ${get}(&${v}, i)); off += 4u; }`,
      ];
    }
  }
}

export function emitProtocolH(spec: ProtocolSpec, banner: string): string {
  const L: string[] = [];
  L.push(`/* ${banner} */`, '/* The protocol between tellme and the firmware: docs/protocol.md. */');
  L.push('#ifndef TL_PROTOCOL_H_', '#define TL_PROTOCOL_H_', '');
  L.push('#include <stddef.h>', '#include <stdint.h>', '#include <string.h>', '');
  L.push('#ifdef __cplusplus', 'extern "C" {', '#endif', '');
  L.push('#if defined(__GNUC__) || defined(__clang__)', '#define TL_PROTO_MUST_USE __attribute__((warn_unused_result))', '#else', '#define TL_PROTO_MUST_USE', '#endif', '');
  L.push(`#define TL_PROTO_MAJOR ${spec.version.major}u`, `#define TL_PROTO_MINOR ${spec.version.minor}u`);
  spec.framing.magic.forEach((b, i) => L.push(`#define TL_PROTO_MAGIC_${i} ${hex(b, 2)}`));
  L.push('#define TL_PROTO_HEADER_BYTES 24u', '#define TL_PROTO_TRAILER_BYTES 4u');
  let off = 0;
  for (const h of spec.framing.header) {
    L.push(`#define TL_PROTO_HDR_${h.name.toUpperCase()}_OFFSET ${off}u ${cComment(h.doc)}`);
    off += h.type === 'bytes' ? h.size! : h.type === 'u16' ? 2 : 4;
  }
  const fr = spec.framing;
  L.push(`#define TL_PROTO_MAX_PAYLOAD ${fr.max_payload}u`, `#define TL_PROTO_MIN_MAX_PAYLOAD ${fr.min_max_payload}u`);
  L.push(`#define TL_PROTO_MAX_FRAME (TL_PROTO_HEADER_BYTES + TL_PROTO_MAX_PAYLOAD + TL_PROTO_TRAILER_BYTES)`);
  L.push(`#define TL_PROTO_INTERBYTE_TIMEOUT_MS ${fr.interbyte_timeout_ms}u`, `#define TL_PROTO_DEFAULT_WINDOW ${fr.default_window}u`);
  L.push(`${cComment(fr.crc.name)}`, `#define TL_PROTO_CRC32_POLY_REFLECTED ${hex(fr.crc.poly_reflected)}`, `#define TL_PROTO_CRC32_INIT ${hex(fr.crc.init)}`);
  L.push(`#define TL_PROTO_CRC32_XOROUT ${hex(fr.crc.xorout)}`, `#define TL_PROTO_CRC32_CHECK ${hex(fr.crc.check)}`);
  L.push('/* u64 fields hold at most 2^53 - 1, so that every host language holds them exactly. */', '#define TL_PROTO_U64_MAX 0x1FFFFFFFFFFFFFull');
  L.push(`#define TL_PROTO_SERIAL_BAUD ${spec.links.serial_baud}u`, `#define TL_PROTO_TCP_PORT ${spec.links.tcp_port}u`, '');

  L.push('/* Message ids. */', 'typedef enum {');
  for (const m of spec.messages) L.push(`  TL_PROTO_MSG_${m.name} = ${hex(m.id, 4)}, ${cComment(m.kind)}`);
  L.push('} tl_proto_msg_t;', '');
  L.push('/* Error codes (the code of an ERROR reply). */', 'typedef enum {');
  for (const e of spec.errors) L.push(`  TL_PROTO_ERR_${e.name} = ${e.code},`);
  L.push('} tl_proto_err_t;', '');
  for (const e of spec.enums) {
    L.push(cComment(`${e.name}: ${e.doc}`), 'typedef enum {');
    for (const v of e.values) L.push(`  TL_PROTO_${e.name.toUpperCase()}_${v.name} = ${v.value}, ${cComment(v.doc)}`);
    L.push(`} tl_proto_${e.name}_t;`, '');
  }
  const mb = spec.pcie_mailbox;
  L.push('/* PCIe mailbox (docs/protocol.md): register offsets from TL_PROTO_MBOX_USER_OFFSET in the user BAR. */');
  L.push(`#define TL_PROTO_MBOX_USER_OFFSET ${hex(mb.user_offset)}`, `#define TL_PROTO_MBOX_MAGIC ${hex(mb.magic)}`);
  L.push(`#define TL_PROTO_MBOX_H2C_CHANNEL ${mb.h2c_channel}u`, `#define TL_PROTO_MBOX_C2H_CHANNEL ${mb.c2h_channel}u`);
  for (const r of mb.registers) L.push(`#define TL_PROTO_MBOX_REG_${r.name} ${hex(r.offset, 2)} ${cComment(`written by the ${r.writer}`)}`);
  L.push('');

  L.push('/* Results of the codec. */', 'typedef enum {', '  TL_PROTO_OK = 0,', '  TL_PROTO_E_SHORT = 1, /* the payload ends inside a field */');
  L.push('  TL_PROTO_E_MAX = 2, /* a length or count above its maximum */', '  TL_PROTO_E_TRAILING = 3, /* bytes after the last field */');
  L.push('  TL_PROTO_E_SPACE = 4, /* the output buffer is too small */', '  TL_PROTO_E_ARG = 5, /* an argument the encoder cannot encode */');
  L.push('  TL_PROTO_E_UTF8 = 6 /* a string that is not well-formed UTF-8 */', '} tl_proto_status_t;', '');

  L.push('/* Views: strings and blobs point into the payload (not NUL-terminated). */');
  L.push('typedef struct { const char *data; uint32_t len; } tl_proto_str_t;', 'typedef struct { const uint8_t *data; uint32_t len; } tl_proto_blob_t;');
  L.push('/* Arrays: `le` points to little-endian elements (what decoders set), or `host` to a C array (for encoders). */');
  L.push('typedef struct { const uint8_t *le; const uint32_t *host; uint32_t count; } tl_proto_u32s_t;');
  L.push('typedef struct { const uint8_t *le; const float *host; uint32_t count; } tl_proto_f32s_t;', '');

  L.push('static inline uint16_t tl_proto_get_u16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }');
  L.push('static inline uint32_t tl_proto_get_u32(const uint8_t *p) {');
  L.push('  return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);', '}');
  L.push('static inline uint64_t tl_proto_get_u64(const uint8_t *p) { return (uint64_t)tl_proto_get_u32(p) | ((uint64_t)tl_proto_get_u32(p + 4) << 32); }');
  L.push('static inline float tl_proto_get_f32(const uint8_t *p) { uint32_t u = tl_proto_get_u32(p); float f; memcpy(&f, &u, 4); return f; }');
  L.push('static inline double tl_proto_get_f64(const uint8_t *p) { uint64_t u = tl_proto_get_u64(p); double d; memcpy(&d, &u, 8); return d; }');
  L.push('static inline void tl_proto_put_u16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }');
  L.push('static inline void tl_proto_put_u32(uint8_t *p, uint32_t v) {');
  L.push('  p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24);', '}');
  L.push('static inline void tl_proto_put_u64(uint8_t *p, uint64_t v) { tl_proto_put_u32(p, (uint32_t)v); tl_proto_put_u32(p + 4, (uint32_t)(v >> 32)); }');
  L.push('static inline void tl_proto_put_f32(uint8_t *p, float f) { uint32_t u; memcpy(&u, &f, 4); tl_proto_put_u32(p, u); }');
  L.push('static inline void tl_proto_put_f64(uint8_t *p, double d) { uint64_t u; memcpy(&u, &d, 8); tl_proto_put_u64(p, u); }');
  L.push('static inline uint32_t tl_proto_u32s_get(const tl_proto_u32s_t *a, uint32_t i) { return a->host ? a->host[i] : tl_proto_get_u32(a->le + 4u * i); }');
  L.push('static inline float tl_proto_f32s_get(const tl_proto_f32s_t *a, uint32_t i) { return a->host ? a->host[i] : tl_proto_get_f32(a->le + 4u * i); }', '');

  L.push('/* Whether n bytes are well-formed UTF-8 (Unicode table 3-7: no overlongs, surrogates or values above U+10FFFF). */');
  L.push('int tl_proto_utf8_valid(const uint8_t *s, uint32_t n);', '');
  L.push('/* Message metadata; names and texts are NULL / 0 for unknown ids and codes. */');
  L.push('const char *tl_proto_msg_name(uint16_t id);', 'int tl_proto_msg_is_request(uint16_t id);');
  L.push('/* Allowed while another request runs; not counted against the window. */', 'int tl_proto_msg_is_control(uint16_t id);');
  L.push('/* The reply id of a request (0 for other ids). */', 'uint16_t tl_proto_msg_reply(uint16_t id);');
  L.push('const char *tl_proto_err_name(uint16_t code);', 'const char *tl_proto_err_message(uint16_t code);', 'const char *tl_proto_err_fix(uint16_t code);', '');

  for (const m of spec.messages) {
    L.push(cComment(`${m.name} (${m.kind}): ${m.doc}`));
    for (const f of m.fields.filter((x) => x.max !== undefined)) L.push(`#define ${maxName(m, f)} ${f.max}u`);
    const t = `tl_proto_${lower(m.name)}_t`;
    if (m.fields.length === 0) L.push(`typedef struct { uint8_t unused; } ${t};`);
    else {
      L.push('typedef struct {');
      for (const f of m.fields) L.push(`  ${cMember(f)} ${cComment(f.doc)}`);
      L.push(`} ${t};`);
    }
    L.push(`TL_PROTO_MUST_USE tl_proto_status_t tl_proto_${lower(m.name)}_decode(const uint8_t *p, uint32_t len, ${t} *out);`);
    L.push(`TL_PROTO_MUST_USE tl_proto_status_t tl_proto_${lower(m.name)}_encode(const ${t} *m, uint8_t *buf, uint32_t cap, uint32_t *len_out);`, '');
  }
  L.push('#ifdef __cplusplus', '}', '#endif', '', '#endif /* TL_PROTOCOL_H_ */', '');
  return L.join('\n');
}

const UTF8_VALID_C = [
  'int tl_proto_utf8_valid(const uint8_t *s, uint32_t n) {',
  '  uint32_t i = 0u;',
  '  while (i < n) {',
  '    uint8_t b = s[i];',
  '    uint8_t lo = 0x80u, hi = 0xBFu;',
  '    uint32_t more, k;',
  '    if (b < 0x80u) { i++; continue; }',
  '    if (b >= 0xC2u && b <= 0xDFu) more = 1u;',
  '    else if (b >= 0xE0u && b <= 0xEFu) { more = 2u; if (b == 0xE0u) lo = 0xA0u; if (b == 0xEDu) hi = 0x9Fu; }',
  '    else if (b >= 0xF0u && b <= 0xF4u) { more = 3u; if (b == 0xF0u) lo = 0x90u; if (b == 0xF4u) hi = 0x8Fu; }',
  '    else return 0;',
  '    if (n - i - 1u < more) return 0;',
  '    for (k = 1u; k <= more; k++) {',
  '      uint8_t c = s[i + k];',
  '      if (k == 1u ? (c < lo || c > hi) : (c < 0x80u || c > 0xBFu)) return 0;',
  '    }',
  '    i += more + 1u;',
  '  }',
  '  return 1;',
  '}',
];

export function emitProtocolC(spec: ProtocolSpec, banner: string): string {
  const L: string[] = [];
  L.push(`/* ${banner} */`, '#include "tl_protocol.h"', '');
  L.push('#define TL_NEED(n) do { if ((uint64_t)off + (uint64_t)(n) > (uint64_t)len) return TL_PROTO_E_SHORT; } while (0)');
  L.push('#define TL_ROOM(n) do { if ((uint64_t)off + (uint64_t)(n) > (uint64_t)cap) return TL_PROTO_E_SPACE; } while (0)', '');

  L.push(...UTF8_VALID_C, '');
  L.push('const char *tl_proto_msg_name(uint16_t id) {', '  switch (id) {');
  for (const m of spec.messages) L.push(`    case TL_PROTO_MSG_${m.name}: return ${cString(m.name)};`);
  L.push('    default: return NULL;', '  }', '}', '');
  L.push('int tl_proto_msg_is_request(uint16_t id) {', '  switch (id) {');
  for (const m of spec.messages.filter((x) => x.kind === 'request')) L.push(`    case TL_PROTO_MSG_${m.name}:`);
  L.push('      return 1;', '    default: return 0;', '  }', '}', '');
  L.push('int tl_proto_msg_is_control(uint16_t id) {', '  switch (id) {');
  for (const m of spec.messages.filter((x) => x.control)) L.push(`    case TL_PROTO_MSG_${m.name}:`);
  L.push('      return 1;', '    default: return 0;', '  }', '}', '');
  L.push('uint16_t tl_proto_msg_reply(uint16_t id) {', '  switch (id) {');
  for (const m of spec.messages.filter((x) => x.kind === 'request')) L.push(`    case TL_PROTO_MSG_${m.name}: return TL_PROTO_MSG_${m.reply};`);
  L.push('    default: return 0u;', '  }', '}', '');
  for (const [fn, key] of [['name', 'name'], ['message', 'message'], ['fix', 'fix']] as const) {
    L.push(`const char *tl_proto_err_${fn}(uint16_t code) {`, '  switch (code) {');
    for (const e of spec.errors) L.push(`    case TL_PROTO_ERR_${e.name}: return ${cString(e[key])};`);
    L.push('    default: return NULL;', '  }', '}', '');
  }

  for (const m of spec.messages) {
    const t = `tl_proto_${lower(m.name)}_t`;
    const varLen = m.fields.some((f) => ['str', 'blob', 'u32[]', 'f32[]'].includes(f.type));
    const arrays = m.fields.some((f) => f.type === 'u32[]' || f.type === 'f32[]');
    L.push(`tl_proto_status_t tl_proto_${lower(m.name)}_decode(const uint8_t *p, uint32_t len, ${t} *out) {`);
    L.push('  uint32_t off = 0u;');
    if (varLen) L.push('  uint32_t n;');
    L.push('  if ((p == NULL && len > 0u) || out == NULL) return TL_PROTO_E_ARG;', '  memset(out, 0, sizeof *out);');
    for (const f of m.fields) for (const line of decodeField(m, f)) L.push('  ' + line);
    L.push('  return off == len ? TL_PROTO_OK : TL_PROTO_E_TRAILING;', '}', '');
    L.push(`tl_proto_status_t tl_proto_${lower(m.name)}_encode(const ${t} *m, uint8_t *buf, uint32_t cap, uint32_t *len_out) {`);
    L.push('  uint32_t off = 0u;');
    if (arrays) L.push('  uint32_t i;');
    L.push('  if (m == NULL || len_out == NULL || (buf == NULL && cap > 0u)) return TL_PROTO_E_ARG;');
    if (m.fields.length === 0) L.push('  (void)m;');
    for (const f of m.fields) for (const line of encodeField(m, f)) L.push('  ' + line);
    L.push('  *len_out = off;', '  return TL_PROTO_OK;', '}', '');
  }
  return L.join('\n');
}
