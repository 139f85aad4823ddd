// Self-signed certificates for the admission webhook from node:crypto alone: Node can make and
// verify keys and signatures and parse X.509 (X509Certificate), but not issue certificates, so
// this file DER-encodes the few structures of RFC 5280 a serving certificate needs. ECDSA P-256
// with SHA-256: small, fast, and accepted by Go's crypto/tls (the kube-apiserver is the client).
//
//   CA:      CN=<name> CA, basicConstraints cA, keyUsage keyCertSign|cRLSign|digitalSignature
//   serving: CN=<name>, SANs (DNS names and IPs), keyUsage digitalSignature, extKeyUsage serverAuth
import { X509Certificate, createHash, createPublicKey, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { isIPv4, isIPv6 } from 'node:net';

// ---- DER ------------------------------------------------------------------------------------

function length(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

function tlv(tag: number, content: Buffer): Buffer {
  return Buffer.concat([Buffer.from([tag]), length(content.length), content]);
}

const seq = (...items: Buffer[]): Buffer => tlv(0x30, Buffer.concat(items));
const set = (...items: Buffer[]): Buffer => tlv(0x31, Buffer.concat(items));
const explicit = (n: number, inner: Buffer): Buffer => tlv(0xa0 + n, inner);
const octets = (b: Buffer): Buffer => tlv(0x04, b);
const utf8 = (s: string): Buffer => tlv(0x0c, Buffer.from(s, 'utf8'));
const bool = (v: boolean): Buffer => tlv(0x01, Buffer.from([v ? 0xff : 0x00]));

function unsignedInteger(bytes: Buffer): Buffer {
  let b = bytes;
  while (b.length > 1 && b[0] === 0 && ((b[1] ?? 0) & 0x80) === 0) b = b.subarray(1);
  if (((b[0] ?? 0) & 0x80) !== 0) b = Buffer.concat([Buffer.from([0]), b]);
  return tlv(0x02, b);
}

function oid(dotted: string): Buffer {
  const parts = dotted.split('.').map(Number);
  const [a = 0, b = 0, ...rest] = parts;
  const out: number[] = [40 * a + b];
  for (const p of rest) {
    const chunk: number[] = [p & 0x7f];
    for (let v = Math.floor(p / 128); v > 0; v = Math.floor(v / 128)) chunk.unshift(0x80 | (v & 0x7f));
    out.push(...chunk);
  }
  return tlv(0x06, Buffer.from(out));
}

/** A BIT STRING of whole bytes (no unused bits): signatures and key identifiers. */
const bitString = (b: Buffer): Buffer => tlv(0x03, Buffer.concat([Buffer.from([0]), b]));

/** A named-bit BIT STRING (keyUsage): `bits` lists bit numbers, 0 = the first byte's top bit. */
function namedBits(bits: readonly number[]): Buffer {
  const max = Math.max(...bits);
  const bytes = Buffer.alloc(Math.floor(max / 8) + 1);
  for (const bit of bits) bytes[Math.floor(bit / 8)] = (bytes[Math.floor(bit / 8)] ?? 0) | (0x80 >> bit % 8);
  const unused = 7 - (max % 8);
  return tlv(0x03, Buffer.concat([Buffer.from([unused]), bytes]));
}

function time(d: Date): Buffer {
  const iso = d.toISOString(); // 2026-01-02T03:04:05.678Z
  const digits = iso.slice(0, 19).replace(/[-T:]/g, ''); // 20260102030405
  const year = d.getUTCFullYear();
  // UTCTime through 2049, GeneralizedTime from 2050 (RFC 5280 4.1.2.5).
  return year < 2050 ? tlv(0x17, Buffer.from(`${digits.slice(2)}Z`)) : tlv(0x18, Buffer.from(`${digits}Z`));
}

// ---- X.509 ----------------------------------------------------------------------------------

const OID = {
  commonName: '2.5.4.3',
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
  extKeyUsage: '2.5.29.37',
  subjectAltName: '2.5.29.17',
  subjectKeyIdentifier: '2.5.29.14',
  authorityKeyIdentifier: '2.5.29.35',
  serverAuth: '1.3.6.1.5.5.7.3.1',
} as const;

const KEY_USAGE = { digitalSignature: 0, keyCertSign: 5, cRLSign: 6 } as const;

const name = (cn: string): Buffer => seq(set(seq(oid(OID.commonName), utf8(cn))));

function extension(id: string, critical: boolean, value: Buffer): Buffer {
  return critical ? seq(oid(id), bool(true), octets(value)) : seq(oid(id), octets(value));
}

function ipBytes(ip: string): Buffer {
  if (isIPv4(ip)) return Buffer.from(ip.split('.').map(Number));
  if (!isIPv6(ip)) throw new Error(`not an IP address: ${ip}`);
  let text = ip;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4?.[1]) {
    const b = v4[1].split('.').map(Number);
    text = text.slice(0, -v4[1].length) + `${(((b[0] ?? 0) << 8) | (b[1] ?? 0)).toString(16)}:${(((b[2] ?? 0) << 8) | (b[3] ?? 0)).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2));
  return out;
}

function subjectAltName(dnsNames: readonly string[], ips: readonly string[]): Buffer {
  const names = [...dnsNames.map((d) => tlv(0x82, Buffer.from(d, 'ascii'))), ...ips.map((ip) => tlv(0x87, ipBytes(ip)))];
  return seq(...names);
}

function keyId(publicKey: KeyObject): Buffer {
  return createHash('sha1').update(publicKey.export({ type: 'spki', format: 'der' })).digest();
}

type IssueOptions = {
  subject: string;
  issuer: string;
  publicKey: KeyObject;
  issuerKey: KeyObject;
  issuerPublicKey: KeyObject;
  notBefore: Date;
  notAfter: Date;
  extensions: Buffer[];
};

function issue(o: IssueOptions): string {
  const serial = randomBytes(16);
  serial[0] = (serial[0] ?? 0) & 0x7f;
  const algorithm = seq(oid(OID.ecdsaWithSha256));
  const exts = [
    ...o.extensions,
    extension(OID.subjectKeyIdentifier, false, octets(keyId(o.publicKey))),
    extension(OID.authorityKeyIdentifier, false, seq(tlv(0x80, keyId(o.issuerPublicKey)))),
  ];
  const tbs = seq(
    explicit(0, unsignedInteger(Buffer.from([2]))),
    unsignedInteger(serial),
    algorithm,
    name(o.issuer),
    seq(time(o.notBefore), time(o.notAfter)),
    name(o.subject),
    o.publicKey.export({ type: 'spki', format: 'der' }),
    explicit(3, seq(...exts)),
  );
  const signature = sign('sha256', tbs, o.issuerKey);
  const der = seq(tbs, algorithm, bitString(signature));
  const b64 = der.toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '');
  return `-----BEGIN CERTIFICATE-----\n${b64}\n-----END CERTIFICATE-----\n`;
}

export type ServingCertificate = {
  /** PEM of the CA that signed `cert`: the webhook configuration's caBundle. */
  readonly caCert: string;
  /** PEM of the serving certificate. */
  readonly cert: string;
  /** PEM (PKCS#8) of the serving certificate's private key. */
  readonly key: string;
};

export type ServingCertificateOptions = {
  /** CN of the serving certificate (the CA is "<commonName> CA"). */
  commonName: string;
  dnsNames: readonly string[];
  ipAddresses?: readonly string[];
  /** Default 365 days. */
  validityDays?: number;
  now?: Date;
};

/** A fresh CA and a serving certificate signed by it (the CA's key is thrown away). */
export function generateServingCertificate(opts: ServingCertificateOptions): ServingCertificate {
  if (opts.dnsNames.length + (opts.ipAddresses?.length ?? 0) === 0) throw new Error('a serving certificate needs at least one DNS name or IP address');
  const now = opts.now ?? new Date();
  const notBefore = new Date(now.getTime() - 5 * 60_000); // tolerate clock skew
  const notAfter = new Date(now.getTime() + (opts.validityDays ?? 365) * 86_400_000);
  const ca = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const leaf = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const caName = `${opts.commonName} CA`;
  const caCert = issue({
    subject: caName,
    issuer: caName,
    publicKey: ca.publicKey,
    issuerKey: ca.privateKey,
    issuerPublicKey: ca.publicKey,
    notBefore,
    notAfter,
    extensions: [
      extension(OID.basicConstraints, true, seq(bool(true))),
      extension(OID.keyUsage, true, namedBits([KEY_USAGE.digitalSignature, KEY_USAGE.keyCertSign, KEY_USAGE.cRLSign])),
    ],
  });
  const cert = issue({
    subject: opts.commonName,
    issuer: caName,
    publicKey: leaf.publicKey,
    issuerKey: ca.privateKey,
    issuerPublicKey: ca.publicKey,
    notBefore,
    notAfter,
    extensions: [
      extension(OID.basicConstraints, true, seq()),
      extension(OID.keyUsage, true, namedBits([KEY_USAGE.digitalSignature])),
      extension(OID.extKeyUsage, false, seq(oid(OID.serverAuth))),
      extension(OID.subjectAltName, false, subjectAltName(opts.dnsNames, opts.ipAddresses ?? [])),
    ],
  });
  return { caCert, cert, key: leaf.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() };
}

/**
 * Whether `c` can still serve `dnsNames`/`ipAddresses`: the serving certificate parses, is
 * signed by the CA, covers every name, matches its key, and stays valid for `minRemainingMs`.
 */
export function servingCertificateUsable(
  c: ServingCertificate,
  want: { dnsNames: readonly string[]; ipAddresses?: readonly string[]; now?: Date; minRemainingMs?: number },
): boolean {
  try {
    const ca = new X509Certificate(c.caCert);
    const leaf = new X509Certificate(c.cert);
    if (!leaf.verify(ca.publicKey) || !leaf.checkIssued(ca)) return false;
    if (!createPublicKey(c.key).equals(leaf.publicKey)) return false;
    const now = (want.now ?? new Date()).getTime();
    if (new Date(leaf.validFrom).getTime() > now) return false;
    if (new Date(leaf.validTo).getTime() - now < (want.minRemainingMs ?? 30 * 86_400_000)) return false;
    for (const d of want.dnsNames) if (leaf.checkHost(d, { wildcards: false }) !== d) return false;
    for (const ip of want.ipAddresses ?? []) if (leaf.checkIP(ip) === undefined) return false;
    return true;
  } catch {
    return false;
  }
}
