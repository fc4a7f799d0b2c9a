/**
 * `STORAGE_BACKEND` and the `S3_*` settings: fs by default, s3 with its bucket required and checked,
 * the defaults the README states, and a clear ConfigError naming the variable for bad values.
 */
import { ConfigError, loadConfig } from '../../../src/platform/config.js';
import { createStorage } from '../../../src/platform/services.js';
import { DiskStorage } from '../../../src/platform/storage.js';
import { S3Storage } from '../../../src/platform/storage-s3.js';

describe('storage settings', () => {
  it('keeps the fs backend by default, with no s3 settings', async () => {
    const config = loadConfig({ STORAGE_DIR: '/tmp/mv-config-test' });
    expect(config.storageBackend).toBe('fs');
    expect(config.s3).toBeNull();
    expect(await createStorage(config)).toBeInstanceOf(DiskStorage);
  });

  it('reads the s3 backend with its defaults (AWS endpoint, us-east-1, virtual-host addressing)', async () => {
    const config = loadConfig({ STORAGE_BACKEND: 's3', S3_BUCKET: 'melody-vocals' });
    expect(config.s3).toEqual({
      endpoint: null,
      region: 'us-east-1',
      bucket: 'melody-vocals',
      forcePathStyle: false,
      downloads: 'proxy',
      publicEndpoint: null,
    });
    const storage = await createStorage(config);
    expect(storage).toBeInstanceOf(S3Storage);
    // Downloads go through the API unless presigned ones are asked for.
    expect(storage.presignRead).toBeUndefined();
    await storage.close?.();
  });

  it('reads every s3 setting', () => {
    const config = loadConfig({
      STORAGE_BACKEND: 's3',
      S3_ENDPOINT: 'http://minio:9000/',
      S3_REGION: 'eu-west-1',
      S3_BUCKET: 'mv.outputs-1',
      S3_FORCE_PATH_STYLE: 'true',
      S3_DOWNLOADS: 'presigned',
      S3_PUBLIC_ENDPOINT: 'https://files.example.com/',
    });
    expect(config.s3).toEqual({
      endpoint: 'http://minio:9000',
      region: 'eu-west-1',
      bucket: 'mv.outputs-1',
      forcePathStyle: true,
      downloads: 'presigned',
      publicEndpoint: 'https://files.example.com',
    });
  });

  it('signs presigned downloads for S3_ENDPOINT when no public endpoint is given', async () => {
    const config = loadConfig({
      STORAGE_BACKEND: 's3',
      S3_BUCKET: 'ok-bucket',
      S3_ENDPOINT: 'http://minio:9000',
      S3_DOWNLOADS: 'presigned',
    });
    expect(config.s3).toMatchObject({ downloads: 'presigned', publicEndpoint: 'http://minio:9000' });
    const storage = await createStorage(config);
    expect(typeof storage.presignRead).toBe('function');
    await storage.close?.();
  });

  it.each([
    [{ STORAGE_BACKEND: 'gcs' }, 'STORAGE_BACKEND'],
    [{ STORAGE_BACKEND: 's3' }, 'S3_BUCKET'],
    [{ STORAGE_BACKEND: 's3', S3_BUCKET: 'Upper_Case' }, 'S3_BUCKET'],
    [{ STORAGE_BACKEND: 's3', S3_BUCKET: 'ok-bucket', S3_ENDPOINT: 'minio:9000' }, 'S3_ENDPOINT'],
    [{ STORAGE_BACKEND: 's3', S3_BUCKET: 'ok-bucket', S3_REGION: 'EU West' }, 'S3_REGION'],
    [{ STORAGE_BACKEND: 's3', S3_BUCKET: 'ok-bucket', S3_FORCE_PATH_STYLE: 'maybe' }, 'S3_FORCE_PATH_STYLE'],
    [{ STORAGE_BACKEND: 's3', S3_BUCKET: 'ok-bucket', S3_DOWNLOADS: 'redirect' }, 'S3_DOWNLOADS'],
    [
      { STORAGE_BACKEND: 's3', S3_BUCKET: 'ok-bucket', S3_DOWNLOADS: 'presigned', S3_PUBLIC_ENDPOINT: 'files.example.com' },
      'S3_PUBLIC_ENDPOINT',
    ],
  ])('refuses %j naming %s', (env, name) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(name);
  });
});
