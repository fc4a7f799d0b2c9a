/**
 * Moods and genres: what the writer's word choice and form follow.
 *
 * A mood has a polarity (the sign the AFINN-165 valence of its words should have) and a few seed
 * images of our own; the seeds are widened through their WordNet relatives in the lexicon.
 * A genre picks the rhyme scheme (checks.ts), a noun-class diction and small form preferences.
 */
import { sanitizeText } from './sanitize.js';

export interface MoodProfile {
  name: string;
  /** Sign the song's valence should have: 1 positive, −1 negative, 0 either (mixed moods). */
  polarity: 1 | -1 | 0;
  /** Images and feelings that carry the mood. */
  seeds: string[];
  /** Line-ending adverbials that suit the mood. */
  adverbs: string[];
}

const MOODS: MoodProfile[] = [
  {
    name: 'sad',
    polarity: -1,
    seeds: 'rain tear grey cold empty lonely alone lost cry miss sorrow shadow winter fade ghost dust goodbye broken weep grief pain'.split(
      ' ',
    ),
    adverbs: ['alone', 'again', 'tonight'],
  },
  {
    name: 'angry',
    polarity: -1,
    seeds: 'fire burn fight break storm thunder rage lie scream smoke war hate steel anger betray liar cruel bitter wrong shout'.split(' '),
    adverbs: ['tonight', 'again'],
  },
  {
    name: 'happy',
    polarity: 1,
    seeds: 'sun light dance laugh summer shine smile bright gold sing friend joy celebrate party music warm fun play'.split(' '),
    adverbs: ['tonight', 'today', 'together', 'again'],
  },
  {
    name: 'romantic',
    polarity: 1,
    seeds: 'kiss heart rose moon hold touch dream love tender sweet candle embrace darling lover beautiful'.split(' '),
    adverbs: ['tonight', 'together', 'forever', 'again'],
  },
  {
    name: 'calm',
    polarity: 1,
    seeds: 'river breeze still quiet slow sea rest soft gentle breathe morning meadow peace calm silence cloud lake'.split(' '),
    adverbs: ['slowly', 'today', 'together'],
  },
  {
    name: 'hopeful',
    polarity: 1,
    seeds: 'dawn morning rise light spring seed grow tomorrow believe wing hope dream heal bloom promise free'.split(' '),
    adverbs: ['again', 'today', 'together', 'someday'],
  },
  {
    name: 'confident',
    polarity: 1,
    seeds: 'rise strong stand win crown run proud bold fire champion power brave conquer shine top'.split(' '),
    adverbs: ['tonight', 'today', 'again'],
  },
  {
    name: 'nostalgic',
    polarity: 0,
    seeds: 'memory remember old summer photograph yesterday letter childhood home past young street school friend'.split(' '),
    adverbs: ['again', 'back then', 'once'],
  },
];

const ALIASES: Record<string, string> = {
  melancholy: 'sad',
  melancholic: 'sad',
  sorrowful: 'sad',
  heartbroken: 'sad',
  blue: 'sad',
  lonely: 'sad',
  gloomy: 'sad',
  dark: 'angry',
  furious: 'angry',
  rage: 'angry',
  aggressive: 'angry',
  mad: 'angry',
  bitter: 'angry',
  joyful: 'happy',
  upbeat: 'happy',
  cheerful: 'happy',
  energetic: 'happy',
  excited: 'happy',
  fun: 'happy',
  playful: 'happy',
  love: 'romantic',
  loving: 'romantic',
  tender: 'romantic',
  sensual: 'romantic',
  peaceful: 'calm',
  relaxed: 'calm',
  chill: 'calm',
  serene: 'calm',
  dreamy: 'calm',
  hope: 'hopeful',
  optimistic: 'hopeful',
  uplifting: 'hopeful',
  inspiring: 'hopeful',
  proud: 'confident',
  epic: 'confident',
  triumphant: 'confident',
  bold: 'confident',
  empowering: 'confident',
  wistful: 'nostalgic',
  bittersweet: 'nostalgic',
  reflective: 'nostalgic',
};

const NEUTRAL: MoodProfile = { name: 'neutral', polarity: 0, seeds: [], adverbs: ['tonight', 'again', 'today'] };

/** The profile for a free-text mood (`sad`, `Melancholy`, `very angry`); unknown moods are neutral. */
export function moodProfile(mood: string): MoodProfile {
  const words =
    sanitizeText(mood)
      .toLowerCase()
      .match(/[a-z]+/g) ?? [];
  for (const w of words) {
    const name = ALIASES[w] ?? w;
    const found = MOODS.find((m) => m.name === name);
    if (found) return found;
  }
  return NEUTRAL;
}

export interface GenreProfile {
  name: string;
  /** Weight multipliers per noun class: the genre's diction (folk concrete, hip-hop urban …). */
  diction: Partial<Record<string, number>>;
  /** Bonus for an open (long) vowel on a line's last, held note (ballads). */
  openVowelBonus: number;
  /** Bonus for a rhyme inside the line (hip-hop). */
  internalRhymeBonus: number;
  /** Penalty per note held instead of sung (dense genres want every note sung). */
  holdPenalty: number;
}

/** Genre profiles; unknown genres get `pop`. */
export function genreProfile(genre: string): GenreProfile {
  const g = sanitizeText(genre).toLowerCase();
  if (/rap|hip|trap|grime|drill/.test(g))
    return {
      name: 'hip-hop',
      diction: { place: 2, artifact: 2, word: 1.5, being: 1.5 },
      openVowelBonus: 0,
      internalRhymeBonus: 1.2,
      holdPenalty: 2.5,
    };
  if (/ballad|soul|r&b|rnb|gospel|lullaby/.test(g))
    return {
      name: 'ballad',
      diction: { feeling: 1.8, body: 1.6, time: 1.5, nature: 1.3 },
      openVowelBonus: 0.8,
      internalRhymeBonus: 0,
      holdPenalty: 1.5,
    };
  if (/folk|country|bluegrass|acoustic/.test(g))
    return {
      name: 'folk',
      diction: { nature: 2, plant: 2, place: 1.6, artifact: 1.5, weather: 1.6, food: 1.3 },
      openVowelBonus: 0.3,
      internalRhymeBonus: 0,
      holdPenalty: 2.5,
    };
  if (/rock|metal|punk|grunge/.test(g))
    return {
      name: 'rock',
      diction: { weather: 1.6, place: 1.5, artifact: 1.3, act: 1.3 },
      openVowelBonus: 0.3,
      internalRhymeBonus: 0.3,
      holdPenalty: 1.8,
    };
  return {
    name: 'pop',
    diction: { feeling: 1.4, time: 1.4, place: 1.3, weather: 1.2 },
    openVowelBonus: 0.3,
    internalRhymeBonus: 0.2,
    holdPenalty: 3,
  };
}
