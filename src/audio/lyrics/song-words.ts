/**
 * The words songs are made of (our own lists): the images, actions and qualities a songwriter reaches
 * for without a thesaurus. The embedded writer draws its words from these, the prompt and the prompt's
 * WordNet relatives only, so rhyme pressure cannot pull in a `deposit` or a `cape`; each word still
 * takes its class, frames and forms from the lexicon (lexicon.ts).
 *
 * Chosen by reading: images one can see, hear or feel (rain, road, hand, window), the people of a song,
 * times of day and year, and the verbs of moving, holding, seeing, remembering and feeling.
 */

/** Nouns of song images: nature, weather, time, places, the home, the body, people, feelings, things said. */
export const SONG_NOUNS = new Set(
  `rain light road heart night home sun moon star sky sea river fire wind storm snow summer winter spring autumn morning evening dawn
  day year time dream love hope hand eye face voice name song word letter door window room house street city town car train station
  bridge field hill mountain ocean shore wave tree flower rose garden shadow smoke dust glass mirror photograph picture bed table
  kitchen floor wall roof radio guitar dance kiss smile tear heartbeat arm shoulder skin blood breath memory promise
  secret truth lie story prayer silence music friend lover stranger child mother father brother sister girl boy baby angel ghost
  world cloud thunder lightning island desert forest valley highway corner gate church party sunrise sunset midnight weekend
  rainbow sunlight moonlight candle flame spark stone sand water lake stream harbor boat ship horizon heaven
  soul spirit fear pain sorrow joy laughter peace freedom whisper echo melody chorus piano
  bird leaf grass meadow frost ice fog mist season moment yesterday childhood goodbye phone
  family wedding birthday crowd alley porch yard path trail tower tide sound ground canyon lantern starlight twilight daylight
  heartache sweetheart darling lullaby harbor lighthouse hometown doorway hallway pillow blanket sweater jacket postcard suitcase
  runway engine wheel sidewalk rooftop skyline crossroads creek waterfall rainstorm snowfall blossom willow oak pine ivy sunflower
  daisy wildflower butterfly sparrow robin raven dove eagle wolf horse dog cat summertime countryside mountainside thunderstorm`.split(
    /\s+/,
  ),
);

/** Verbs of song actions: moving, holding, seeing and hearing, remembering, feeling, saying, making. */
export const SONG_VERBS = new Set(
  `walk run dance cry fall rise sing wait dream shine burn fade breathe sleep stay go come leave drive fly stand hide pray smile laugh
  wander drift turn shake break bleed grow live hold miss remember forget find lose keep need want love hate feel see hear know call
  kiss touch take give follow chase carry light open close write read tell show save  believe   sit move  
  return travel ride swim climb jump sail float glow sparkle flicker   flow freeze melt rain snow shout whisper scream
  listen watch look stare wonder  hope trust fight win lead hurt heal  wake  begin  build paint play
  wave hug embrace  swing roll spin shiver tremble weep mourn grieve regret promise sing hum sigh yearn long ache burn
  reach catch     lift   share send bring meet greet thank forgive kneel  cross gather 
   roam race rush  slip sink drown rise bloom blossom   shine shatter crumble`.split(/\s+/),
);

/** Adjectives of song qualities. */
export const SONG_ADJS = new Set(
  `cold warm old young long slow fast quiet loud empty broken golden silver blue red black white gray grey dark bright wild free lost
  lonely sweet tender soft gentle hard strong brave proud tired restless endless open little heavy sad happy new last first hollow
  distant faded familiar secret bitter true green deep high low whole silent pale holy crazy beautiful perfect lucky fearless alive
  alone afraid awake ready gone lovely fragile tiny huge wide narrow clear shining burning frozen hungry thirsty weary lucky angry
  fierce calm still peaceful easy simple honest foolish wise precious rare final early late ancient endless scarlet crimson
  golden shady sunny rainy stormy windy misty starry dusty muddy wet dry bare naked blind broken careless reckless desperate
  hopeless helpless heartless faithful grateful joyful painful beautiful wonderful dangerous gentle sacred quiet
  yellow purple velvet wooden shattered scattered tangled twisted sleepy lazy dizzy sleepless weightless nameless timeless boundless
  midnight summer evening morning winter autumn golden silver crystal emerald faraway forgotten hidden frozen fallen stolen broken
  painted rusty dusty dirty lonesome handsome lovesick homesick starry stormy cloudy sunny rainy windy foggy snowy icy fiery`.split(/\s+/),
);

/** Adjectives that can say how a person is (`I am lonely`, `my father was proud`). */
export const PERSON_ADJS = new Set(
  `lonely free lost tired restless young old strong brave proud alive alone afraid awake happy sad wild cold warm sweet gentle quiet
  crazy beautiful lucky fearless tender broken true ready gone weary hungry angry fierce calm still honest foolish wise faithful
  grateful joyful desperate hopeless helpless reckless careless blind silent bitter pale lovely fragile`.split(/\s+/),
);

/**
 * What a song verb does to its object, as WordNet noun classes (lexicon.ts): one holds a person, a hand or
 * a thing, crosses a place, tells a word, remembers nearly anything. Verbs not listed fall back on the
 * grammar's table by verb class.
 */
const PERSON = ['being'];
const BODY = ['body'];
const THING = ['artifact', 'food', 'matter'];
const PLACE = ['place'];
const SCENE = ['nature', 'weather', 'time', 'plant'];
const FEELING = ['feeling', 'mind', 'state'];
const WORD = ['word'];
const EVENT = ['event', 'act'];
const objects = (...groups: string[][]): ReadonlySet<string> => new Set(groups.flat());
export const VERB_OBJECTS: Readonly<Record<string, ReadonlySet<string>>> = {
  hold: objects(PERSON, BODY, THING),
  miss: objects(PERSON, PLACE, SCENE, THING, EVENT),
  remember: objects(PERSON, PLACE, SCENE, THING, EVENT, WORD),
  forget: objects(PERSON, PLACE, SCENE, EVENT, WORD),
  find: objects(PERSON, PLACE, THING, WORD, FEELING),
  lose: objects(PERSON, THING, FEELING),
  keep: objects(THING, WORD, FEELING),
  need: objects(PERSON, FEELING),
  want: objects(PERSON, FEELING, THING),
  love: objects(PERSON, PLACE, SCENE, EVENT),
  hate: objects(PERSON, PLACE, SCENE, WORD),
  feel: objects(SCENE, FEELING),
  see: objects(PERSON, PLACE, SCENE, THING),
  watch: objects(PERSON, SCENE, PLACE),
  hear: objects(WORD, PERSON),
  know: objects(PERSON, PLACE, WORD),
  call: objects(PERSON),
  kiss: objects(PERSON, BODY),
  touch: objects(PERSON, BODY, SCENE),
  take: objects(BODY, THING, PERSON),
  give: objects(THING, WORD, FEELING),
  leave: objects(PERSON, PLACE),
  follow: objects(PERSON, PLACE, SCENE),
  chase: objects(PERSON, SCENE, FEELING),
  carry: objects(THING, PERSON, WORD, FEELING),
  light: objects(THING),
  burn: objects(THING, WORD),
  break: objects(THING, WORD, FEELING),
  open: objects(THING),
  close: objects(THING),
  write: objects(WORD),
  read: objects(WORD),
  tell: objects(WORD),
  sing: objects(WORD),
  show: objects(THING, FEELING, PLACE),
  save: objects(PERSON, THING),
  steal: objects(THING, FEELING),
  believe: objects(WORD, PERSON),
  wish: objects(),
  cover: objects(THING, BODY),
  build: objects(THING, PLACE),
  paint: objects(THING, SCENE),
  play: objects(THING, WORD),
  share: objects(THING, WORD, FEELING),
  send: objects(WORD, FEELING),
  bring: objects(THING, PERSON, FEELING),
  meet: objects(PERSON),
  forgive: objects(PERSON),
  trust: objects(PERSON),
  follow2: objects(),
  reach: objects(PLACE, SCENE, PERSON),
  catch: objects(PERSON, THING, SCENE),
  throw: objects(THING),
  drop: objects(THING),
  lift: objects(THING, PERSON),
  cross: objects(PLACE, SCENE),
  climb: objects(PLACE, SCENE),
  // Only vehicles are ridden or driven; the prompt's own pair (`ride a bicycle`) comes through `objectOf`.
  ride: objects(SCENE),
  drive: objects(PERSON),
  sail: objects(SCENE),
  swim: objects(SCENE),
  fight: objects(PERSON, FEELING),
  win: objects(EVENT, PERSON),
  lead: objects(PERSON),
  hurt: objects(PERSON),
  heal: objects(PERSON, BODY),
  wake: objects(PERSON),
  change: objects(PLACE, THING),
  hug: objects(PERSON),
  embrace: objects(PERSON),
  rock: objects(PERSON),
  gather: objects(PERSON, THING),
  pour: objects(THING),
  spill: objects(THING),
  shake: objects(PERSON, BODY),
  push: objects(PERSON, THING),
  pull: objects(PERSON, THING),
  start: objects(EVENT, THING),
  stop: objects(PERSON, THING, EVENT),
  begin: objects(EVENT),
  end: objects(EVENT, WORD),
  return: objects(THING),
  turn: objects(THING, PLACE),
  wave: objects(BODY),
  kick: objects(THING),
  greet: objects(PERSON),
  thank: objects(PERSON),
  promise: objects(PERSON),
  whisper: objects(WORD),
  scream: objects(WORD),
  shout: objects(WORD),
  listen: objects(),
  look: objects(),
  stare: objects(),
  wonder: objects(),
  worry: objects(),
  hope: objects(),
  dream: objects(),
  long: objects(),
  ache: objects(),
  yearn: objects(),
  regret: objects(WORD, EVENT, PERSON),
  mourn: objects(PERSON, EVENT),
  grieve: objects(PERSON),
  hide: objects(THING, FEELING, BODY),
  move: objects(THING, PERSON),
  roll: objects(THING),
  spin: objects(THING),
  swing: objects(THING),
  hum: objects(WORD),
  blow: objects(THING, WORD),
  scatter: objects(THING),
};
/** Verbs with an empty set above take no object of ours (`listen`, `wonder`: they need a preposition). */

/** Things one is in (`in the kitchen`, `in your car`). */
export const ENCLOSURES = new Set('house room kitchen car train station church tower bed boat ship phone'.split(' '));
/** Things one looks or walks through (`through the window`). */
export const OPENINGS = new Set('door window gate'.split(' '));
/** Ways one walks down or along (`down the road`). */
export const WAYS = new Set('road street highway bridge alley path trail river shore'.split(' '));
/** Things too big or fixed to hold, carry or throw (`carry your house`), besides openings and ways. */
export const BIG_THINGS = new Set(
  'house room kitchen station church tower bed wall fire porch yard table piano train ship car boat lighthouse garden'.split(' '),
);
/**
 * Verbs that take their object in hand or move it (hold, carry, lift, swing …): their objects must be
 * things one can handle (see the writer's `handleable`). Seeing, remembering, missing and finding take anything.
 */
export const HANDLING_VERBS = new Set(
  `hold keep take give carry light burn break open close show save steal cover play share bring catch throw drop lift gather pour spill
  push pull return turn kick hide move roll spin swing blow scatter change`.split(/\s+/),
);
/** Things one stands by (`by the fire`, `near the wall`). */
export const LANDMARKS = new Set('table wall fire candle radio piano mirror porch yard'.split(' '));
