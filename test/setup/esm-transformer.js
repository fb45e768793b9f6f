/**
 * NestJS 12 and a few of its dependencies ship ES modules. Node 20 loads them from CommonJS (require(esm)), but
 * Jest's module system on Node 20 cannot, so this transformer compiles ES-module packages to CommonJS with swc and
 * passes every CommonJS file through untouched.
 */
const fs = require('node:fs');
const path = require('node:path');
const { createTransformer } = require('@swc/jest');

const swc = createTransformer({
  swcrc: false,
  jsc: { parser: { syntax: 'ecmascript' }, target: 'es2022', keepClassNames: true },
  module: { type: 'commonjs' },
});

const typeByDir = new Map();
function packageType(dir) {
  if (typeByDir.has(dir)) return typeByDir.get(dir);
  const manifest = path.join(dir, 'package.json');
  let type;
  if (fs.existsSync(manifest)) {
    try {
      type = JSON.parse(fs.readFileSync(manifest, 'utf8')).type ?? 'commonjs';
    } catch {
      type = 'commonjs';
    }
  }
  const parent = path.dirname(dir);
  if (type === undefined) type = parent === dir ? 'commonjs' : packageType(parent);
  typeByDir.set(dir, type);
  return type;
}

const isEsm = (file) => file.endsWith('.mjs') || (!file.endsWith('.cjs') && packageType(path.dirname(file)) === 'module');

module.exports = {
  process(source, file, options) {
    return isEsm(file) ? swc.process(source, file, options) : { code: source };
  },
  getCacheKey(source, file, options) {
    return `${swc.getCacheKey(source, file, options)}:${isEsm(file) ? 'esm' : 'cjs'}`;
  },
};
