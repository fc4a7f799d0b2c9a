/**
 * What multipart-upload.ts relies on of graphql-upload-minimal (its `Upload` settles at run time
 * through `resolve`/`reject`, which its typings omit; its `GraphQLUpload` scalar turns an `Upload` into
 * its promise), and the `map` path rule: own properties of plain objects and arrays only, under
 * `variables`, ending at a null placeholder.
 */
import { GraphQLUpload, Upload, type FileUpload } from 'graphql-upload-minimal';
import { MultipartError, placeUpload } from '../../../src/graphql/multipart-upload.js';

type Settleable = Upload & { resolve(file: FileUpload): void; reject(error: Error): void };

describe('graphql-upload-minimal as multipart-upload.ts uses it', () => {
  it('settles an Upload through resolve, and the Upload scalar yields its promise', async () => {
    const upload = new Upload() as Settleable;
    const file = { fieldName: '0', filename: 'a.wav', mimetype: 'audio/wav', encoding: '7bit', createReadStream: () => null as never };
    upload.resolve(file);
    expect(upload.file).toBe(file);
    await expect(GraphQLUpload.parseValue(upload) as Promise<FileUpload>).resolves.toBe(file);
  });

  it('settles an Upload through reject without an unhandled rejection', async () => {
    const upload = new Upload() as Settleable;
    upload.reject(new MultipartError(400, 'cut'));
    await expect(upload.promise).rejects.toMatchObject({ status: 400 });
  });
});

describe('placeUpload', () => {
  const operations = () => ({ query: 'q', variables: { input: { audio: null, prompt: 'p' }, list: [null, null] } });

  it('puts the upload at a null variable, in an object or an array', () => {
    const ops = operations();
    const upload = new Upload();
    placeUpload(ops, 'variables.input.audio', upload);
    placeUpload(ops, 'variables.list.1', upload);
    expect(ops.variables.input.audio).toBe(upload);
    expect(ops.variables.list).toEqual([null, upload]);
  });

  it('walks into a batch by index', () => {
    const batch = [operations(), operations()];
    placeUpload(batch, '1.variables.input.audio', new Upload());
    expect(batch[1].variables.input.audio).toBeInstanceOf(Upload);
  });

  it.each(Object.getOwnPropertyNames(Object.prototype))(
    'refuses every path through the inherited %s, and Object.prototype is untouched',
    (name) => {
      const before = Object.getOwnPropertyNames(Object.prototype).map((key) => [key, (Object.prototype as Record<string, unknown>)[key]]);
      for (const path of [
        `variables.${name}`,
        `variables.${name}.call`,
        `variables.input.${name}`,
        `variables.input.${name}.call`,
        `${name}.call`,
        `variables.input.prompt.${name}`,
      ]) {
        expect(() => placeUpload(operations(), path, new Upload())).toThrow(MultipartError);
      }
      expect(Object.getOwnPropertyNames(Object.prototype).map((key) => [key, (Object.prototype as Record<string, unknown>)[key]])).toEqual(
        before,
      );
    },
  );

  it.each([
    'query',
    'variables',
    'variables.input',
    'variables.input.prompt',
    'variables.input.prompt.length',
    'variables.list.2',
    'variables.list.01',
    'variables..audio',
    'variables.input.other',
  ])('refuses %s', (path) => {
    expect(() => placeUpload(operations(), path, new Upload())).toThrow(MultipartError);
  });

  it('refuses an own __proto__ key from JSON without touching any prototype', () => {
    const ops = JSON.parse('{"variables":{"__proto__":null}}') as object;
    expect(() => placeUpload(ops, 'variables.__proto__', new Upload())).toThrow(MultipartError);
    expect(Object.getPrototypeOf((ops as { variables: object }).variables)).toBe(Object.prototype);
  });
});
