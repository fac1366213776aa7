// Drops optional platform packages that the lock names but holds no entry for: the registry this project
// installs from lacks some other-platform binaries, and `npm ci` refuses a lock that names what it cannot find.
// Run after any `npm install` that rewrites package-lock.json.
import { readFileSync, writeFileSync } from 'node:fs';

const file = new URL('../package-lock.json', import.meta.url);
const lock = JSON.parse(readFileSync(file, 'utf8'));
const packages = lock.packages;
let pruned = 0;

function resolves(fromPath, name) {
  // npm's lookup: node_modules/<name> beside fromPath, then up the tree.
  let base = fromPath;
  for (;;) {
    const candidate = base ? `${base}/node_modules/${name}` : `node_modules/${name}`;
    if (packages[candidate]) return true;
    if (!base) return false;
    const i = base.lastIndexOf('/node_modules/');
    base = i >= 0 ? base.slice(0, i) : '';
  }
}

for (const [path, entry] of Object.entries(packages)) {
  for (const name of Object.keys(entry.optionalDependencies ?? {})) {
    if (!resolves(path, name)) {
      delete entry.optionalDependencies[name];
      pruned++;
    }
  }
}
writeFileSync(file, `${JSON.stringify(lock, null, 2)}\n`);
process.stdout.write(`prune-lock: removed ${pruned} unresolvable optional dependencies\n`);
