// Instantiates a transpiled translator component (see transpile.mjs) and
// returns its `pgrest:translator/api` exports.
//
// The component is a Rust wasm32-wasip2 program: it imports a few WASI
// interfaces (environment, stdio, exit, streams) that it never needs for its
// work. preview2-shim provides them, sandboxed: no environment, no files, no
// network, like the Rust host's empty WasiCtx.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { WASIShim } from '@bytecodealliance/preview2-shim/instantiation';

/** The contract this host speaks (wit/translator.wit). */
export const API = 'pgrest:translator/api@0.2.0';

export async function loadTranslator(dir) {
  const { instantiate } = await import(pathToFileURL(join(dir, 'translator.js')).href);
  const compile = async (file) => WebAssembly.compile(await readFile(join(dir, file)));
  const wasi = new WASIShim({
    sandbox: { preopens: {}, env: {}, args: ['pgrest-translator'], enableNetwork: false },
  });
  const exports = await instantiate(compile, wasi.getImportObject());
  const api = exports[API];
  if (!api) {
    throw new Error(`the component does not export ${API} (it has ${Object.keys(exports)})`);
  }
  return api;
}

/** A WIT `result` error arrives as a thrown value; this is its payload. */
export function errPayload(e) {
  return e && typeof e === 'object' && 'payload' in e ? e.payload : e;
}
