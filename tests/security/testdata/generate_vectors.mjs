// Generates jwt_vectors.json: keys, tokens and the verdict keel must reach,
// produced by the `jose` reference implementation (pinned in package.json).
// Run once (`npm ci && node generate_vectors.mjs`); the output is committed
// and the C++ tests only read it.
import * as jose from 'jose';
import { createHmac, createPrivateKey, randomBytes, sign as nodeSign } from 'node:crypto';
import { writeFileSync } from 'node:fs';

const NOW = 1700000000;  // keel::ManualClock's default wall time
const ISS = 'https://issuer.example';
const AUD = 'keel-api';
const enc = new TextEncoder();
const b64u = (buf) => Buffer.from(buf).toString('base64url');

const asymmetric = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512',
                    'ES256', 'ES384', 'ES512', 'EdDSA'];
const hmacLengths = { HS256: 32, HS384: 48, HS512: 64 };

const keys = {};      // alg -> { priv, kid }
const jwks = { keys: [] };
const octKeys = [];
for (const alg of asymmetric) {
  const opts = { extractable: true };
  if (alg === 'EdDSA') opts.crv = 'Ed25519';
  const { publicKey, privateKey } = await jose.generateKeyPair(alg, opts);
  const kid = alg.toLowerCase();
  const jwk = await jose.exportJWK(publicKey);
  jwk.kid = kid;
  jwk.alg = alg;
  jwk.use = 'sig';
  jwks.keys.push(jwk);
  keys[alg] = { priv: privateKey, kid, pub: publicKey };
}
for (const [alg, len] of Object.entries(hmacLengths)) {
  const secret = randomBytes(len);
  const kid = alg.toLowerCase();
  octKeys.push({ kty: 'oct', k: b64u(secret), alg, kid });
  keys[alg] = { priv: secret, kid };
}
const rsaPublicPem = await jose.exportSPKI(keys.RS256.pub);

const baseClaims = () => ({ iss: ISS, aud: AUD, sub: 'user-1', iat: NOW - 60,
                            exp: NOW + 3600, scope: 'read write' });

async function signed(alg, claims, header = {}) {
  const jwt = new jose.SignJWT(claims)
      .setProtectedHeader({ alg, kid: keys[alg].kid, typ: 'JWT', ...header });
  return jwt.sign(keys[alg].priv);
}

// Signs arbitrary header/payload bytes with HS256 (for inputs jose refuses
// to produce, such as duplicate JSON members).
function rawHs256(headerJson, payloadJson) {
  const input = `${b64u(enc.encode(headerJson))}.${b64u(enc.encode(payloadJson))}`;
  const mac = createHmac('sha256', keys.HS256.priv).update(input).digest();
  return `${input}.${b64u(mac)}`;
}

const cases = [];
const add = (name, token, expect, note) => cases.push({ name, token, expect, note });

for (const alg of [...Object.keys(hmacLengths), ...asymmetric]) {
  add(`valid_${alg}`, await signed(alg, baseClaims()), 'ok', `signed by jose with ${alg}`);
}

add('aud_array_contains', await signed('ES256', { ...baseClaims(), aud: ['other', AUD] }), 'ok');
add('exp_one_second_left', await signed('HS256', { ...baseClaims(), exp: NOW + 1 }), 'ok');
add('expired', await signed('RS256', { ...baseClaims(), exp: NOW - 10 }), 'expired');
add('exp_equals_now', await signed('HS256', { ...baseClaims(), exp: NOW }), 'expired',
    'RFC 7519: the current time must be before exp');
add('not_yet_valid', await signed('ES256', { ...baseClaims(), nbf: NOW + 600 }), 'not_yet_valid');
add('wrong_audience', await signed('RS256', { ...baseClaims(), aud: 'someone-else' }), 'bad_audience');
add('aud_array_without_us', await signed('RS256', { ...baseClaims(), aud: ['a', 'b'] }), 'bad_audience');
add('wrong_issuer', await signed('HS256', { ...baseClaims(), iss: 'https://evil.example' }), 'unknown_issuer');
add('missing_exp', await signed('HS256', { iss: ISS, aud: AUD, sub: 'user-1' }), 'missing_claim');
add('exp_not_a_number', await signed('HS256', { ...baseClaims(), exp: String(NOW + 3600) }), 'malformed');
add('unknown_kid', await signed('ES256', baseClaims(), { kid: 'nobody' }), 'unknown_key');

add('alg_none', new jose.UnsecuredJWT(baseClaims()).encode(), 'algorithm_rejected',
    'unsecured JWT, empty signature');
{
  const [h, p] = (await signed('HS256', baseClaims())).split('.');
  const none = b64u(enc.encode(JSON.stringify({ alg: 'none', kid: 'hs256' })));
  add('alg_none_with_signature', `${none}.${p}.${b64u(randomBytes(32))}`, 'algorithm_rejected');
  void h;
}
add('key_confusion_rs_public_as_hs_secret',
    await new jose.SignJWT(baseClaims())
        .setProtectedHeader({ alg: 'HS256', kid: keys.RS256.kid })
        .sign(enc.encode(rsaPublicPem)),
    'unknown_key', 'HS256 MAC keyed with the RS256 public key PEM, kid of the RSA key');
{
  // The same ES256 signature in ASN.1 DER instead of JOSE's raw R||S.
  const token = await signed('ES256', baseClaims());
  const [h, p] = token.split('.');
  const privPem = await jose.exportPKCS8(keys.ES256.priv);
  const der = nodeSign('sha256', Buffer.from(`${h}.${p}`),
                       { key: createPrivateKey(privPem), dsaEncoding: 'der' });
  add('es256_der_signature', `${h}.${p}.${b64u(der)}`, 'bad_signature');
}
{
  const token = await signed('RS256', baseClaims());
  const [h, p, s] = token.split('.');
  const claims = { ...baseClaims(), sub: 'admin' };
  add('tampered_payload', `${h}.${b64u(enc.encode(JSON.stringify(claims)))}.${s}`, 'bad_signature');
  const sig = Buffer.from(s, 'base64url');
  sig[10] ^= 0x01;
  add('tampered_signature', `${h}.${p}.${b64u(sig)}`, 'bad_signature');
  add('truncated_two_parts', `${h}.${p}`, 'malformed');
  // A signature six bytes short, still in strict base64url.
  add('truncated_signature', `${h}.${p}.${b64u(sig.subarray(0, sig.length - 6))}`,
      'bad_signature');
  // The same signature bytes spelled with non-zero unused trailing bits (the
  // last character of a 256-byte signature carries 4 unused bits).
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  const last = alphabet.indexOf(s[s.length - 1]);
  add('signature_nonzero_trailing_bits',
      `${h}.${p}.${s.slice(0, -1)}${alphabet[last | 1]}`, 'malformed');
  add('padded_base64', `${h}.${p}.${s}==`, 'malformed');
  add('standard_base64_alphabet', `${h}.${p}.${s.replace(/-/g, '+').replace(/_/g, '/')}`,
      s.includes('-') || s.includes('_') ? 'malformed' : 'ok');
  add('four_parts', `${h}.${p}.${s}.${s}`, 'malformed');
}
add('unknown_crit',
    await new jose.CompactSign(enc.encode(JSON.stringify(baseClaims())))
        .setProtectedHeader({ alg: 'HS256', kid: 'hs256', crit: ['urn:example:must-know'],
                              'urn:example:must-know': true })
        .sign(keys.HS256.priv, { crit: { 'urn:example:must-know': true } }),
    'unsupported_critical');
{
  // An attacker-supplied key in the `jwk` header must never be used.
  const { publicKey, privateKey } = await jose.generateKeyPair('ES256', { extractable: true });
  const attackerJwk = await jose.exportJWK(publicKey);
  add('embedded_jwk_header',
      await new jose.SignJWT(baseClaims()).setProtectedHeader({ alg: 'ES256', jwk: attackerJwk })
          .sign(privateKey),
      'bad_signature', 'no kid: tried against the issuer ES256 key only');
  add('jku_header_ignored',
      await new jose.SignJWT(baseClaims())
          .setProtectedHeader({ alg: 'ES256', kid: 'es256', jku: 'https://evil.example/jwks' })
          .sign(privateKey),
      'bad_signature');
}
add('oversized',
    await signed('HS256', { ...baseClaims(), pad: 'x'.repeat(12000) }), 'too_large');
add('duplicate_payload_member',
    rawHs256(JSON.stringify({ alg: 'HS256', kid: 'hs256' }),
             `{"iss":"${ISS}","aud":"${AUD}","sub":"user-1","exp":${NOW + 3600},"sub":"admin"}`),
    'malformed');
add('duplicate_header_member',
    rawHs256('{"alg":"HS256","kid":"hs256","alg":"none"}',
             JSON.stringify(baseClaims())),
    'malformed');
add('payload_not_object', rawHs256(JSON.stringify({ alg: 'HS256', kid: 'hs256' }), '[1,2]'),
    'malformed');
add('raw_hs256_control', rawHs256(JSON.stringify({ alg: 'HS256', kid: 'hs256' }),
                                  JSON.stringify(baseClaims())),
    'ok', 'checks that rawHs256 itself produces valid tokens');

// Sanity check: jose must accept every token we expect keel to accept.
const localJwks = jose.createLocalJWKSet(jwks);
for (const c of cases.filter((x) => x.expect === 'ok')) {
  const alg = jose.decodeProtectedHeader(c.token).alg;
  const key = alg.startsWith('HS') ? keys[alg].priv : localJwks;
  await jose.jwtVerify(c.token, key, { issuer: ISS, audience: AUD,
                                       currentDate: new Date(NOW * 1000) });
}

writeFileSync(new URL('./jwt_vectors.json', import.meta.url), JSON.stringify({
  generator: `jose ${'6.2.17'}`, now: NOW, issuer: ISS, audience: AUD,
  jwks, oct_keys: { keys: octKeys }, rs256_public_pem: rsaPublicPem, cases,
}, null, 1) + '\n');
console.log(`${cases.length} cases`);
