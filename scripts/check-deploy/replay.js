// Replays a parsed Dockerfile without Docker: every stage is a folder standing for its WORKDIR, COPY copies between
// those folders (or from the build context, less .dockerignore), RUN runs each `&&`-joined command in the stage's
// folder. Only the commands below are replayed; any other RUN command fails the check, so a Dockerfile change this
// script does not follow cannot pass unnoticed. `--chown` and USER are not replayed (the replay runs as the caller).
import { spawn } from 'node:child_process';
import { appendFile, cp, mkdir, readdir, readFile, rm, stat, symlink } from 'node:fs/promises';
import path from 'node:path';
import { parseCopy, parseEnv } from './dockerfile.js';

/** The RUN commands the replay knows, and the step each stands for. */
const COMMANDS = [
  { step: 'install-turbo', pattern: /^npm install -g turbo@(\S+)$/ },
  { step: 'turbo-prune', pattern: /^turbo prune (\S+) --docker$/ },
  { step: 'npm-ci', pattern: /^npm ci$/ },
  { step: 'build', pattern: /^npx turbo run build --filter=(\S+)\.\.\.$/ },
  { step: 'npm-prune', pattern: /^npm prune((?: --omit=(?:dev|optional|peer))+)$/ },
  { step: 'remove', pattern: /^rm -rf((?: [\w@./-]+)+)$/ },
];

/** The steps every app's Dockerfile must take, in this order. */
const REQUIRED_STEPS = ['turbo-prune', 'npm-ci', 'build', 'npm-prune'];

/** The PATH of the node images, plus this Node's folder (npm and npx live beside it). */
const IMAGE_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/**
 * Replays `stages` (from readDockerfile) for the workspace package `packageName` in folders under `workDir`.
 * Returns the last stage: `{ dir, env, cmd }`. Writes every command's output to `logFile`; `report(line)` gets one
 * line per RUN command with its time.
 */
export async function replayDockerfile({
  stages,
  context,
  isIgnored,
  workDir,
  packageName,
  repoTurbo,
  logFile,
  report,
}) {
  // Every RUN command is checked before anything runs, so a step this replay does not know fails at once.
  const taken = [];
  for (const { instructions } of stages) {
    for (const instruction of instructions.filter(({ keyword }) => keyword === 'RUN')) {
      for (const command of splitRun(instruction.args)) {
        taken.push(where(instruction, () => classify(command, packageName, repoTurbo)).step);
      }
    }
  }
  const order = [...new Set(taken.filter((step) => REQUIRED_STEPS.includes(step)))].join(' -> ');
  if (order !== REQUIRED_STEPS.join(' -> ')) {
    throw new Error(
      `the Dockerfile's RUN steps are ${order || 'none'}; a per-app image needs ${REQUIRED_STEPS.join(' -> ')}`,
    );
  }

  const built = new Map();
  for (const stage of stages) {
    const state = await where({ line: stage.line, keyword: 'FROM', args: stage.from }, () =>
      startStage(stage, built, workDir),
    );
    const deps = { built, context, isIgnored, packageName, repoTurbo, logFile, report, workDir };
    for (const instruction of stage.instructions)
      await where(instruction, () => replayInstruction(instruction, state, deps));
    built.set(stage.name, state);
  }
  const last = built.get(stages.at(-1).name);
  if (!last.cmd) throw new Error('the last stage has no CMD');
  return last;
}

/** Runs `fn`, prefixing any error with the instruction's place in the Dockerfile. */
function where(instruction, fn) {
  const label = (err) => {
    err.message = `${instruction.line} (${instruction.keyword} ${instruction.args}): ${err.message}`;
    throw err;
  };
  try {
    const result = fn();
    return result instanceof Promise ? result.catch(label) : result;
  } catch (err) {
    return label(err);
  }
}

function splitRun(args) {
  return args.split('&&').map((part) => part.trim());
}

/** Which known step `command` is, after the checks that need no replay; throws for anything else. */
function classify(command, packageName, repoTurbo) {
  const known = COMMANDS.find(({ pattern }) => pattern.test(command));
  if (!known)
    throw new Error(
      `check:deploy does not replay \`${command}\`; teach scripts/check-deploy/replay.js or change the Dockerfile`,
    );
  const [, captured = ''] = known.pattern.exec(command);
  if (known.step === 'install-turbo') {
    if (captured !== repoTurbo.pinned)
      throw new Error(`the Dockerfile installs turbo@${captured}; package.json pins turbo ${repoTurbo.pinned}`);
    if (repoTurbo.installed !== captured)
      throw new Error(`node_modules holds turbo ${repoTurbo.installed}, not ${captured}: run npm ci`);
  }
  if ((known.step === 'turbo-prune' || known.step === 'build') && captured !== packageName) {
    throw new Error(`\`${command}\` names ${captured}, but this app is ${packageName}`);
  }
  if (known.step === 'npm-prune' && !captured.includes('--omit=dev')) throw new Error('npm prune without --omit=dev');
  if (known.step === 'remove') {
    for (const target of captured.trim().split(' ')) {
      if (path.isAbsolute(target) || target.split('/').some((part) => part === '..' || part === '.')) {
        throw new Error(`rm -rf ${target}: the replay only removes paths inside WORKDIR`);
      }
    }
  }
  return known;
}

async function startStage(stage, built, workDir) {
  const dir = path.join(workDir, `stage-${stage.name}`);
  const parent = built.get(stage.from);
  if (parent) {
    await cp(parent.dir, dir, { recursive: true, verbatimSymlinks: true });
    return { ...parent, dir, env: { ...parent.env }, pathPrefix: [...parent.pathPrefix] };
  }
  const major = /^node:(\d+)\b/.exec(stage.from)?.[1];
  if (major === undefined)
    throw new Error(`stage ${stage.name} builds on ${stage.from}; the replay only knows node:<major> images`);
  if (major !== process.versions.node.split('.')[0]) {
    throw new Error(`stage ${stage.name} builds on ${stage.from}, but this replay runs Node ${process.versions.node}`);
  }
  await mkdir(dir, { recursive: true });
  return { dir, workdir: undefined, env: {}, pathPrefix: [], cmd: undefined };
}

async function replayInstruction({ keyword, args }, state, deps) {
  switch (keyword) {
    case 'WORKDIR':
      if (state.workdir !== undefined && state.workdir !== args)
        throw new Error(`the replay supports one WORKDIR (${state.workdir})`);
      if (!path.isAbsolute(args)) throw new Error('WORKDIR must be absolute');
      state.workdir = args;
      return;
    case 'ENV':
      Object.assign(state.env, parseEnv(args));
      return;
    case 'CMD':
      state.cmd = JSON.parse(args);
      return;
    case 'COPY':
      return copy(parseCopy(args), state, deps);
    case 'RUN':
      for (const command of splitRun(args)) await run(command, state, deps);
      return;
    default:
      // USER, EXPOSE, LABEL: nothing to replay.
      return;
  }
}

async function copy({ flags, sources, dest }, state, { built, context, isIgnored }) {
  const unknown = Object.keys(flags).filter((flag) => flag !== 'from' && flag !== 'chown');
  if (unknown.length > 0) throw new Error(`COPY --${unknown[0]} is not replayed`);
  const from = flags.from === undefined ? undefined : built.get(flags.from);
  if (flags.from !== undefined && !from) throw new Error(`no stage named ${flags.from} before this one`);
  const target = inStage(state, dest);
  for (const source of sources) {
    if (/[*?[]/.test(source)) throw new Error('wildcards in COPY are not replayed');
    const origin = from ? inStage(from, source) : path.resolve(context, source);
    const relativeToContext = path.relative(context, origin);
    if (!from && relativeToContext.startsWith('..')) throw new Error(`${source} is outside the build context`);
    if (!from && relativeToContext !== '' && isIgnored(relativeToContext))
      throw new Error(`${source} is excluded by .dockerignore`);
    const info = await stat(origin);
    if (info.isDirectory()) {
      // A folder's contents are copied, not the folder itself.
      await mkdir(target, { recursive: true });
      const filter = from ? undefined : (file) => !isIgnored(path.relative(context, file));
      for (const entry of await readdir(origin)) {
        const file = path.join(origin, entry);
        if (filter && !filter(file)) continue;
        await cp(file, path.join(target, entry), { recursive: true, verbatimSymlinks: true, filter });
      }
    } else {
      const into = dest.endsWith('/') || dest === '.' ? path.join(target, path.basename(origin)) : target;
      await mkdir(path.dirname(into), { recursive: true });
      await cp(origin, into);
    }
  }
}

/** Maps a path inside the stage's file system (absolute, or relative to WORKDIR) to the stage's folder. */
function inStage(state, file) {
  if (state.workdir === undefined) throw new Error('no WORKDIR before this COPY');
  const inside = path.posix.relative(state.workdir, path.posix.resolve(state.workdir, file));
  if (inside.startsWith('..'))
    throw new Error(`${file} is outside WORKDIR ${state.workdir}; the replay only maps WORKDIR`);
  return path.join(state.dir, inside);
}

async function run(command, state, { packageName, repoTurbo, logFile, report, workDir }) {
  const known = classify(command, packageName, repoTurbo);
  if (known.step === 'install-turbo') {
    // Not run: it would install on this machine. The repository's own turbo (classify checked its version) stands in.
    const bin = path.join(workDir, 'global-bin');
    await mkdir(bin, { recursive: true });
    await rm(path.join(bin, 'turbo'), { force: true });
    await symlink(repoTurbo.bin, path.join(bin, 'turbo'));
    state.pathPrefix = [bin];
    report(`RUN ${command} (replayed with the repository's turbo ${repoTurbo.installed})`);
    return;
  }
  const started = performance.now();
  await appendFile(logFile, `\n$ (${path.basename(state.dir)}) ${command}\n`);
  await shell(command, state, logFile);
  report(`RUN ${command} (${((performance.now() - started) / 1000).toFixed(1)} s)`);
}

async function shell(command, state, logFile) {
  const env = {
    PATH: [...state.pathPrefix, path.dirname(process.execPath), IMAGE_PATH].join(':'),
    HOME: process.env.HOME ?? '/root',
    ...(process.env.TMPDIR ? { TMPDIR: process.env.TMPDIR } : {}),
    // Quieter and offline-friendly, as nothing here changes what is installed or built.
    TURBO_TELEMETRY_DISABLED: '1',
    DO_NOT_TRACK: '1',
    npm_config_audit: 'false',
    npm_config_fund: 'false',
    npm_config_update_notifier: 'false',
    ...state.env,
  };
  const child = spawn('sh', ['-c', command], { cwd: state.dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const chunks = [];
  child.stdout.on('data', (chunk) => chunks.push(chunk));
  child.stderr.on('data', (chunk) => chunks.push(chunk));
  const code = await new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', resolve);
  });
  const output = Buffer.concat(chunks).toString();
  await appendFile(logFile, output);
  if (code !== 0) {
    const tail = output.trimEnd().split('\n').slice(-30).join('\n');
    throw new Error(`\`${command}\` exited ${code}:\n${tail}`);
  }
}

/** The turbo version package.json pins and the one installed, and the installed binary, for `npm install -g turbo@x`. */
export async function repositoryTurbo(root) {
  const pkg = JSON.parse(await readFile(path.join(root, 'package.json'), 'utf8'));
  const installedPkg = JSON.parse(await readFile(path.join(root, 'node_modules/turbo/package.json'), 'utf8'));
  return {
    pinned: pkg.devDependencies?.turbo,
    installed: installedPkg.version,
    bin: path.join(root, 'node_modules/turbo/bin/turbo'),
  };
}
