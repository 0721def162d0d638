// Transpiles the translator component (a .wasm built by host/build.rs) into
// an ES module with jco:  node transpile.mjs <component.wasm> <out-dir>
//
// "instantiation" mode: the generated module imports nothing itself; the host
// passes the WASI imports when it instantiates (see translator.mjs), so the
// output can live anywhere, e.g. under target/.
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { transpile, writeFiles } from '@bytecodealliance/jco-transpile';

const [wasm, outDir] = process.argv.slice(2);
if (!wasm || !outDir) {
  console.error('usage: node transpile.mjs <component.wasm> <out-dir>');
  process.exit(2);
}
const { files } = await transpile(wasm, {
  name: 'translator',
  instantiation: 'async',
  outDir,
  emitTypescriptDeclarations: true,
});
await rm(outDir, { recursive: true, force: true });
await mkdir(outDir, { recursive: true });
await writeFiles(files);
// The generated code is an ES module.
await writeFile(join(outDir, 'package.json'), '{ "type": "module" }\n');
