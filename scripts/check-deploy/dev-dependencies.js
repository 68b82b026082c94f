// Finds what a pruned install still holds that the app does not need: every installed package that cannot be reached
// from the app's production dependencies (following dependencies, optional dependencies and required peers, through
// workspaces too). Optional peers do not count as a need: npm keeps a devDependency that some production package
// lists as an optional peer (TypeScript, @types/*) only because the dev install brought it.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';

/**
 * Returns `[{ name, declaredBy }]` for every package in `dir`'s node_modules that `packageName` does not need;
 * `declaredBy` lists the manifests (root or workspace) that have it in devDependencies, empty when it came in
 * through one of them.
 */
export async function findShippedDevDependencies(dir, packageName) {
  const root = await readJson(path.join(dir, 'package.json'));
  const manifests = [{ where: 'package.json', pkg: root }];
  for (const folder of root.workspaces ?? []) {
    // turbo prune lists each workspace folder by name; a glob would need expanding.
    if (/[*?]/.test(folder)) throw new Error(`workspace pattern ${folder} is not expanded by this check`);
    const pkg = await readJson(path.join(dir, folder, 'package.json')).catch(() => undefined);
    if (pkg) manifests.push({ where: `${folder}/package.json`, pkg });
  }
  const installed = await installedPackages(path.join(dir, 'node_modules'));
  if (!installed.has(packageName)) throw new Error(`${packageName} is not linked in node_modules`);

  const reached = new Set();
  const queue = [packageName];
  while (queue.length > 0) {
    const name = queue.pop();
    if (reached.has(name)) continue;
    reached.add(name);
    for (const pkg of installed.get(name) ?? []) queue.push(...runtimeNeeds(pkg).filter((need) => installed.has(need)));
  }

  const unneeded = [...installed.keys()].filter((name) => !reached.has(name)).sort();
  return unneeded.map((name) => ({
    name,
    declaredBy: manifests.filter(({ pkg }) => pkg.devDependencies?.[name] !== undefined).map(({ where }) => where),
  }));
}

function runtimeNeeds(pkg) {
  const optionalPeers = Object.entries(pkg.peerDependenciesMeta ?? {})
    .filter(([, meta]) => meta?.optional)
    .map(([name]) => name);
  const peers = Object.keys(pkg.peerDependencies ?? {}).filter((name) => !optionalPeers.includes(name));
  return [...Object.keys(pkg.dependencies ?? {}), ...Object.keys(pkg.optionalDependencies ?? {}), ...peers];
}

/** Every package under a node_modules folder (nested copies and workspace links too): name -> its manifests. */
async function installedPackages(nodeModules, found = new Map()) {
  let entries;
  try {
    entries = await readdir(nodeModules, { withFileTypes: true });
  } catch (err) {
    if (err.code === 'ENOENT') return found;
    throw err;
  }
  for (const entry of entries) {
    if (entry.name.startsWith('.')) continue;
    const names = entry.name.startsWith('@')
      ? (await readdir(path.join(nodeModules, entry.name), { withFileTypes: true })).map((scoped) => ({
          name: `${entry.name}/${scoped.name}`,
          link: scoped.isSymbolicLink(),
        }))
      : [{ name: entry.name, link: entry.isSymbolicLink() }];
    for (const { name, link } of names) {
      // A dangling link still counts as installed: the name is there, even if it resolves to nothing.
      const pkg = (await readJson(path.join(nodeModules, name, 'package.json')).catch(() => undefined)) ?? {};
      found.set(name, [...(found.get(name) ?? []), pkg]);
      if (!link) await installedPackages(path.join(nodeModules, name, 'node_modules'), found);
    }
  }
  return found;
}

async function readJson(file) {
  return JSON.parse(await readFile(file, 'utf8'));
}
