/**
 * Base64 of raw bytes with the web platform's atob/btoa (in Node ≥ 16 and every browser), so model files
 * encode and decode the same way on both without Node's Buffer. Encoding goes in chunks: btoa takes a
 * binary string, and building one character at a time for megabytes of traces would be slow.
 */
const CHUNK = 0x8000;

export function bytesToBase64(bytes: Uint8Array): string {
  let bin = '';
  for (let i = 0; i < bytes.length; i += CHUNK) bin += String.fromCharCode(...bytes.subarray(i, i + CHUNK));
  return btoa(bin);
}

/** decode into a fresh (so 8-byte aligned) buffer; throws on characters outside the base64 alphabet */
export function bytesFromBase64(text: string): Uint8Array {
  const bin = atob(text);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}
