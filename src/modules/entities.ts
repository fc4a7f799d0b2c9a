/** Every entity of the modules: what the ORM is set up with (`initOrm(url, ENTITIES)`, src/services.ts). */
import { User } from './user/user.entity.js';
import { Conversion } from './conversion/conversion.entity.js';
import { Feedback } from './feedback/feedback.entity.js';

export const ENTITIES = [User, Conversion, Feedback];
