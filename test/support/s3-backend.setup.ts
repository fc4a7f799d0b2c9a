/**
 * Jest setup file of the `e2e-s3` project (jest.config.js): the service harness then gives every
 * test its own bucket on a loopback S3 server and starts the services with `STORAGE_BACKEND=s3`
 * (test/support/service-harness.ts, `testStorageBackend`).
 */
process.env.TEST_STORAGE_BACKEND = 's3';
