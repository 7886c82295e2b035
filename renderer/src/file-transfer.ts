import type { UploadedFile } from '../../core/api';

/** Files across the transport, which carries them as base64 (api.ts UploadedFile). */
export function toBase64(buf: ArrayBuffer): string {
  const bytes = new Uint8Array(buf);
  let bin = '';
  for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(bin);
}

/** Save a file that came over the transport through the browser's download. */
export function download(file: UploadedFile, type: string): void {
  const bin = atob(file.base64);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  const a = document.createElement('a');
  a.href = URL.createObjectURL(new Blob([bytes], { type }));
  a.download = file.name;
  a.click();
}

/** Text (UTF-8) as base64, for a file the renderer makes itself (the compare's aggregated CSV). */
export function textToBase64(text: string): string {
  return toBase64(new TextEncoder().encode(text).buffer as ArrayBuffer);
}
