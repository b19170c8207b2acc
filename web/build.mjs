// Bundles src/main.js into ../assets/editor.js and ../assets/editor.css.
// Deterministic on purpose: CI rebuilds and fails on any diff in assets/,
// so no timestamps, no absolute paths, fixed target and options.
//
// The browser tests build the same bundle with `testHooks` into another
// directory and serve it in place of the server's (test/browser/lib.mjs):
// only that build exposes window.__quire, the committed one never does.

import * as esbuild from 'esbuild';
import { fileURLToPath, pathToFileURL } from 'node:url';
import path from 'node:path';

const here = path.dirname(fileURLToPath(import.meta.url));

export async function bundle({ outdir = '../assets', testHooks = false } = {}) {
  await esbuild.build({
    absWorkingDir: here,
    entryPoints: { editor: 'src/main.js' },
    outdir,
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
    define: {
      'process.env.NODE_ENV': '"production"',
      // false: the minifier drops the hooks' code altogether.
      __QUIRE_TEST_HOOKS__: testHooks ? 'true' : 'false',
    },
  });
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) await bundle();
