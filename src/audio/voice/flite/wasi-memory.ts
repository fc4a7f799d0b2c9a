/**
 * A WASI preview 1 host that lives entirely in memory, enough to run a command-line program such as
 * Flite once: arguments in, standard output and written files captured as bytes, no file system, no
 * clock (time is always 0), no environment. It exists so that the pure audio core can run a WebAssembly
 * program synchronously without Node's `node:wasi` (an experimental module that warns on load and needs
 * real preopened directories, i.e. temporary files).
 *
 * Implements the calls Flite's wasi-libc build imports (WASI snapshot preview 1, see
 * https://github.com/WebAssembly/WASI/blob/main/legacy/preview1/docs.md): `args_*`, `clock_time_get`,
 * `fd_{close,fdstat_get,fdstat_set_flags,prestat_get,prestat_dir_name,read,seek,write}`, `path_open`
 * and `proc_exit`; every other import answers ENOSYS. Files can only be created inside the one
 * preopened directory; opening anything else for reading answers ENOENT.
 */

/** WASI errno values used here (preview 1 `errno` enum). */
const ERRNO = { SUCCESS: 0, BADF: 8, INVAL: 28, NOENT: 44, NOSYS: 52 } as const;
const FILETYPE = { CHARACTER_DEVICE: 2, DIRECTORY: 3, REGULAR_FILE: 4 } as const;
const OFLAGS_CREAT = 1;
const OFLAGS_TRUNC = 8;
/** The descriptor of the preopened directory (0–2 are the standard streams). */
const PREOPEN_FD = 3;

/** Thrown by `proc_exit` to unwind the program; carries its exit code. */
class ProgramExit {
  constructor(readonly code: number) {}
}

interface OpenFile {
  name: string;
  bytes: Uint8Array;
  length: number;
  position: number;
}

export interface ProgramRun {
  /** The program's exit code (0 when `_start` returned normally). */
  exitCode: number;
  /** Everything written to standard output, as UTF-8 text. */
  stdout: string;
  /** Everything written to standard error, as UTF-8 text. */
  stderr: string;
  /** Files the program created in the preopened directory, by name relative to it. */
  files: Map<string, Uint8Array>;
}

export interface ProgramOptions {
  /** Command-line arguments after the program name. */
  args: readonly string[];
  /** Name of the preopened, initially empty directory the program may create files in. Default `/out`. */
  directory?: string;
}

/**
 * Instantiates `module` (a WASI command exporting `memory` and `_start`) and runs it to completion,
 * synchronously, in a fresh instance.
 */
export function runWasiProgram(module: WebAssembly.Module, options: ProgramOptions): ProgramRun {
  return createWasiRunner(module)(options);
}

/**
 * A runner that keeps one instance of `module` and runs it again and again: before each run the
 * instance's memory is put back to its state right after instantiation (a saved copy; memory the last
 * run grew is zeroed), so each run starts exactly as in a fresh instance. The module's only mutable
 * global (wasi-sdk's `__stack_pointer`) is back at its start value whenever `_start` returns normally;
 * after a `proc_exit` or a trap the instance is dropped and the next run instantiates anew. This saves
 * the instantiation (~12 ms for Flite) and, above all, the memory of one instance per run waiting for
 * the garbage collector (17 MB or more each).
 */
export function createWasiRunner(module: WebAssembly.Module): (options: ProgramOptions) => ProgramRun {
  let state: RunState | null = null;
  let instance: WebAssembly.Instance | null = null;
  let snapshot: Uint8Array | null = null;
  const imports = buildImports(module, () => state as RunState);
  return (options) => {
    if (!instance || !snapshot) {
      instance = new WebAssembly.Instance(module, imports);
      snapshot = new Uint8Array((instance.exports.memory as WebAssembly.Memory).buffer).slice();
    } else {
      const bytes = new Uint8Array((instance.exports.memory as WebAssembly.Memory).buffer);
      bytes.set(snapshot);
      bytes.fill(0, snapshot.length);
    }
    state = newState(options, instance.exports.memory as WebAssembly.Memory);
    const run = state;
    try {
      (instance.exports._start as () => void)();
    } catch (error) {
      instance = null;
      snapshot = null;
      if (!(error instanceof ProgramExit)) throw error;
      run.exitCode = error.code;
    } finally {
      state = null;
    }
    const decoder = new TextDecoder();
    const join = (parts: Uint8Array[]) => decoder.decode(concat(parts));
    return {
      exitCode: run.exitCode,
      stdout: join(run.stdout),
      stderr: join(run.stderr),
      files: new Map([...run.files].map(([name, file]) => [name, file.bytes.slice(0, file.length)])),
    };
  };
}

interface RunState {
  memory: WebAssembly.Memory;
  args: Uint8Array[];
  dirName: Uint8Array;
  stdout: Uint8Array[];
  stderr: Uint8Array[];
  open: Map<number, OpenFile>;
  files: Map<string, OpenFile>;
  nextFd: number;
  exitCode: number;
}

function newState(options: ProgramOptions, memory: WebAssembly.Memory): RunState {
  const encoder = new TextEncoder();
  return {
    memory,
    args: ['program', ...options.args].map((a) => encoder.encode(`${a}\0`)),
    dirName: encoder.encode(options.directory ?? '/out'),
    stdout: [],
    stderr: [],
    open: new Map(),
    files: new Map(),
    nextFd: PREOPEN_FD + 1,
    exitCode: 0,
  };
}

/** The import object, answering every WASI call for whichever run `current()` returns. */
function buildImports(module: WebAssembly.Module, current: () => RunState): WebAssembly.Imports {
  const view = () => new DataView(current().memory.buffer);
  const bytesAt = (ptr: number, len: number) => new Uint8Array(current().memory.buffer, ptr, len);

  const writeFile = (file: OpenFile, data: Uint8Array) => {
    const end = file.position + data.length;
    if (end > file.bytes.length) {
      const grown = new Uint8Array(Math.max(end, file.bytes.length * 2, 4096));
      grown.set(file.bytes.subarray(0, file.length));
      file.bytes = grown;
    }
    file.bytes.set(data, file.position);
    file.position = end;
    file.length = Math.max(file.length, end);
  };

  const wasi: Record<string, (...args: never[]) => number> = {
    args_sizes_get: (argcPtr: number, bufSizePtr: number) => {
      const { args } = current();
      view().setUint32(argcPtr, args.length, true);
      view().setUint32(
        bufSizePtr,
        args.reduce((sum, a) => sum + a.length, 0),
        true,
      );
      return ERRNO.SUCCESS;
    },
    args_get: (argvPtr: number, bufPtr: number) => {
      let at = bufPtr;
      current().args.forEach((arg, i) => {
        view().setUint32(argvPtr + 4 * i, at, true);
        bytesAt(at, arg.length).set(arg);
        at += arg.length;
      });
      return ERRNO.SUCCESS;
    },
    // A fixed clock keeps runs deterministic (Flite only uses it for benchmark timings).
    clock_time_get: (_id: number, _precision: bigint, timePtr: number) => {
      view().setBigUint64(timePtr, 0n, true);
      return ERRNO.SUCCESS;
    },
    fd_close: (fd: number) => (current().open.delete(fd) || fd <= PREOPEN_FD ? ERRNO.SUCCESS : ERRNO.BADF),
    fd_fdstat_get: (fd: number, ptr: number) => {
      const type =
        fd <= 2 ? FILETYPE.CHARACTER_DEVICE : fd === PREOPEN_FD ? FILETYPE.DIRECTORY : current().open.has(fd) ? FILETYPE.REGULAR_FILE : 0;
      if (!type) return ERRNO.BADF;
      const v = view();
      v.setUint8(ptr, type);
      v.setUint16(ptr + 2, 0, true);
      v.setBigUint64(ptr + 8, 0xffffffffffffffffn, true);
      v.setBigUint64(ptr + 16, 0xffffffffffffffffn, true);
      return ERRNO.SUCCESS;
    },
    fd_fdstat_set_flags: () => ERRNO.SUCCESS,
    fd_prestat_get: (fd: number, ptr: number) => {
      if (fd !== PREOPEN_FD) return ERRNO.BADF;
      view().setUint8(ptr, 0);
      view().setUint32(ptr + 4, current().dirName.length, true);
      return ERRNO.SUCCESS;
    },
    fd_prestat_dir_name: (fd: number, ptr: number, len: number) => {
      if (fd !== PREOPEN_FD) return ERRNO.BADF;
      const { dirName } = current();
      bytesAt(ptr, Math.min(len, dirName.length)).set(dirName.subarray(0, len));
      return ERRNO.SUCCESS;
    },
    fd_read: (fd: number, _iovs: number, _count: number, nreadPtr: number) => {
      // Standard input is empty and files are write-only.
      if (fd !== 0 && !current().open.has(fd)) return ERRNO.BADF;
      view().setUint32(nreadPtr, 0, true);
      return ERRNO.SUCCESS;
    },
    fd_seek: (fd: number, offset: bigint, whence: number, newOffsetPtr: number) => {
      const file = current().open.get(fd);
      if (!file) return ERRNO.BADF;
      const base = whence === 0 ? 0 : whence === 1 ? file.position : file.length;
      const position = base + Number(offset);
      if (position < 0) return ERRNO.INVAL;
      file.position = position;
      view().setBigUint64(newOffsetPtr, BigInt(position), true);
      return ERRNO.SUCCESS;
    },
    fd_write: (fd: number, iovs: number, count: number, nwrittenPtr: number) => {
      const run = current();
      const file = run.open.get(fd);
      if (!file && fd !== 1 && fd !== 2) return ERRNO.BADF;
      let written = 0;
      for (let i = 0; i < count; i++) {
        const ptr = view().getUint32(iovs + 8 * i, true);
        const len = view().getUint32(iovs + 8 * i + 4, true);
        const data = bytesAt(ptr, len).slice();
        if (file) writeFile(file, data);
        else (fd === 1 ? run.stdout : run.stderr).push(data);
        written += len;
      }
      view().setUint32(nwrittenPtr, written, true);
      return ERRNO.SUCCESS;
    },
    path_open: (
      dirFd: number,
      _dirFlags: number,
      pathPtr: number,
      pathLen: number,
      oflags: number,
      _rightsBase: bigint,
      _rightsInheriting: bigint,
      _fdFlags: number,
      fdPtr: number,
    ) => {
      if (dirFd !== PREOPEN_FD) return ERRNO.BADF;
      const name = new TextDecoder().decode(bytesAt(pathPtr, pathLen));
      const run = current();
      let file = run.files.get(name);
      if (!file) {
        if (!(oflags & OFLAGS_CREAT)) return ERRNO.NOENT;
        file = { name, bytes: new Uint8Array(0), length: 0, position: 0 };
        run.files.set(name, file);
      }
      if (oflags & OFLAGS_TRUNC) file.length = 0;
      const fd = run.nextFd++;
      run.open.set(fd, { ...file, position: 0 });
      // Writes go through the descriptor's copy; keep the directory entry pointing at it.
      run.files.set(name, run.open.get(fd) as OpenFile);
      view().setUint32(fdPtr, fd, true);
      return ERRNO.SUCCESS;
    },
    proc_exit: (code: number) => {
      throw new ProgramExit(code);
    },
  };
  const imports: WebAssembly.Imports = { wasi_snapshot_preview1: {} };
  for (const entry of WebAssembly.Module.imports(module)) {
    if (entry.kind !== 'function') continue;
    const target = imports[entry.module] ?? (imports[entry.module] = {});
    target[entry.name] = entry.module === 'wasi_snapshot_preview1' && wasi[entry.name] ? wasi[entry.name] : () => ERRNO.NOSYS;
  }
  return imports;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, p) => sum + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
