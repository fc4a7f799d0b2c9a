/** Every migration, in order. Add new ones at the end; never edit one that has landed. */
import { Migration20261121000000_initial } from './Migration20261121000000_initial.js';
import { Migration20261201000000_quotas_api_keys } from './Migration20261201000000_quotas_api_keys.js';
import { Migration20261210000000_analytics_indexes } from './Migration20261210000000_analytics_indexes.js';
import { Migration20261220000000_resilience } from './Migration20261220000000_resilience.js';

export const migrationsList = [
  { name: 'Migration20261121000000_initial', class: Migration20261121000000_initial },
  { name: 'Migration20261201000000_quotas_api_keys', class: Migration20261201000000_quotas_api_keys },
  { name: 'Migration20261210000000_analytics_indexes', class: Migration20261210000000_analytics_indexes },
  { name: 'Migration20261220000000_resilience', class: Migration20261220000000_resilience },
];
