/**
 * `npm run token -- USER_ID [ROLE]`: prints a bearer token (HS256 JWT, valid 30 days) for local use
 * as its last line. It needs the JWT_SECRET the server runs with: without one the server makes a
 * random secret per process, and no token made here could verify, so the script refuses.
 */
import { loadConfig } from '../src/platform/config.js';
import { signToken } from '../src/platform/auth.js';
import { Role } from '../src/modules/user/user.entity.js';

const [userId, roleArg] = process.argv.slice(2);
const roles = Object.values(Role) as string[];

function fail(message: string): never {
  console.error(message);
  process.exit(2);
}

if (!userId || userId.length > 128 || /\s/.test(userId))
  fail(
    'Usage: npm run token -- USER_ID [ROLE]\n  USER_ID  1–128 characters, no spaces\n  ROLE     one of ' +
      roles.join(', ') +
      ' (default USER)',
  );
const role = (roleArg ?? Role.USER).toUpperCase();
if (!roles.includes(role)) fail(`Unknown role "${roleArg}"; use one of ${roles.join(', ')}.`);
if (!process.env.JWT_SECRET) {
  fail(
    'JWT_SECRET is not set. The server then signs with a random secret of its own and would reject this token.\nSet the same JWT_SECRET for the server and this script, e.g.\n  export JWT_SECRET=$(openssl rand -hex 32)',
  );
}
const config = loadConfig(process.env);
console.error(`Token for user "${userId}" (role ${role}), valid 30 days:`);
console.log(signToken({ secret: config.jwtSecret, issuer: config.jwtIssuer, audience: config.jwtAudience }, userId, role as Role));
