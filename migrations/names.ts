/**
 * The names of every migration, in order, without loading them: start-up compares these with the
 * applied ones and loads the migrator (MikroORM's, umzug under it) only when one is pending. A test
 * keeps this list equal to `migrationsList` (index.ts). Add new names at the end.
 */
export const MIGRATION_NAMES: readonly string[] = [
  'Migration20261121000000_initial',
  'Migration20261201000000_quotas_api_keys',
  'Migration20261210000000_analytics_indexes',
  'Migration20261220000000_resilience',
];
