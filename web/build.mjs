// Bundles src/main.js into ../assets/editor.js and ../assets/editor.css.
// Deterministic on purpose: CI rebuilds and fails on any diff in assets/,
// so no timestamps, no absolute paths, fixed target and options.

import * as esbuild from 'esbuild';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const here = path.dirname(fileURLToPath(import.meta.url));

await esbuild.build({
  absWorkingDir: here,
  entryPoints: { editor: 'src/main.js' },
  outdir: '../assets',
  bundle: true,
  minify: true,
  format: 'iife',
  target: ['es2020', 'chrome100', 'firefox100', 'safari15'],
  platform: 'browser',
  sourcemap: 'linked',
  sourcesContent: true,
  legalComments: 'eof',
  charset: 'utf8',
  loader: { '.json': 'json' },
  logLevel: 'warning',
  define: { 'process.env.NODE_ENV': '"production"' },
});
