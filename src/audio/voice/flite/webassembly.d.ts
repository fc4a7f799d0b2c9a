/**
 * The part of the WebAssembly JavaScript API (https://webassembly.github.io/spec/js-api/) the Flite
 * engine uses. Node has the global at run time, but the project compiles without the DOM library,
 * whose declarations it otherwise comes with.
 */
declare namespace WebAssembly {
  type ImportValue = (...args: never[]) => unknown;
  type Imports = Record<string, Record<string, ImportValue>>;
  interface ModuleImportDescriptor {
    module: string;
    name: string;
    kind: 'function' | 'global' | 'memory' | 'table' | 'tag';
  }
  class Module {
    constructor(bytes: ArrayBufferView | ArrayBuffer);
    static imports(module: Module): ModuleImportDescriptor[];
  }
  class Memory {
    readonly buffer: ArrayBuffer;
  }
  class Instance {
    constructor(module: Module, imports?: Imports);
    readonly exports: Record<string, unknown>;
  }
}
