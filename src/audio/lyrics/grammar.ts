/**
 * A small generative grammar of English lyric lines (our own), filled from the lexicon.
 *
 *   Line    → Clause | Clause Conj Clause | PP , Clause | Imperative | Question
 *   Clause  → Subj Verb_i [Tail] | Subj Verb_t Obj [Tail] | Subj be Adj [Tail] | Subj be Verb_ing [Tail]
 *           | Subj Modal Verb [Obj] [Tail] | there be NP_indef PP | NP keep(s) Verb_ing [Tail]
 *   NP      → Det [Adj] Noun | Det Noun of the Noun | Name | Pronoun
 *   Tail    → PP | Adverb
 *   PP      → Prep NP, the preposition chosen for the noun's class (in the rain, by the river, through the night)
 *
 * Agreement (I am / she is / they were; she walks / they walk), articles (a/an by the next word's first
 * sound, none before plurals or mass nouns) and tense (one per stanza) are enforced here; which verbs
 * take which subjects and objects follows their WordNet frames (a person wanders, the rain falls, a
 * person remembers something). Which words fill the slots (prompt, mood, rhyme) is the caller's choice
 * through `GrammarSource`.
 */
import { FRAME, valence } from './lexicon.js';
import {
  NOT_IMPERATIVE,
  oneOfAKind,
  prepositionAfter,
  standsAlone,
  STATE_VERBS,
  takesFor,
  takesProgressive,
  thingMay,
} from './selection.js';
import { HANDLING_VERBS, SONG_VERBS, VERB_OBJECTS } from './song-words.js';
import {
  COUNT_CLASSES,
  PP_CLASSES,
  prepositionsFor,
  THING_OBJECT_CLASSES,
  SUBJECT_THING_CLASSES,
  BEINGS,
  SCENE_CLASSES,
  SUBJECT_ANY_CLASSES,
  OBJECTS_BY_VERB_CLASS,
  NO_OBJECTS,
  ABOUT_VERBS,
  pick,
  chance,
  beFor,
  finite,
  formFor,
  determiner,
  phrase,
  type Tense,
  type NounItem,
  type VerbItem,
  type GrammarSource,
  type Token,
  type StanzaVoice,
  type Subject,
} from './grammar-words.js';

export { beFor, finite, startsWithVowelSound } from './grammar-words.js';
export type { AdjItem, GrammarSource, NounItem, StanzaVoice, Tense, Token, VerbForm, VerbItem } from './grammar-words.js';

export class LineGrammar {
  constructor(
    private readonly source: GrammarSource,
    private readonly voice: StanzaVoice,
  ) {
    this.random = () => source.random();
  }

  /** The source's random numbers, as one function made once (a derivation asks for it dozens of times). */
  private readonly random: () => number;

  /**
   * The stanza's first person (lyrics round 10): `I`, `me`, `my` in a stanza sung by `I` (or to `you`),
   * `we`, `us`, `our` in one sung by `we`; a stanza never mixes them (`we were wise / Miss me`). The
   * other party is `you`.
   */
  private get firstPerson(): 'I' | 'we' {
    return this.voice.pronoun === 'we' ? 'we' : 'I';
  }
  private get firstObject(): 'me' | 'us' {
    return this.voice.pronoun === 'we' ? 'us' : 'me';
  }
  private get firstPossessive(): 'my' | 'our' {
    return this.voice.pronoun === 'we' ? 'our' : 'my';
  }
  /** A pronoun subject besides the stanza's own: the other party (`you`), or the singer in a stanza to `you`. */
  private get otherPronoun(): 'I' | 'we' | 'you' {
    return this.voice.pronoun === 'you' ? this.firstPerson : 'you';
  }

  /** A noun phrase; null when the source has no fitting noun. */
  np(
    accept: ReadonlySet<string>,
    end: boolean,
    opts: { definiteOnly?: boolean; indefinite?: boolean; adjective?: number; handled?: boolean } = {},
  ): { tokens: Token[]; noun: NounItem; plural: boolean } | null {
    const r = this.random;
    let wantPlural = chance(0.3, r);
    let noun = this.source.noun(accept, end, wantPlural, opts.handled);
    // Mass nouns (rain, love, silence) stay singular; a line end then needs the singular form to rhyme.
    if (noun && wantPlural && !COUNT_CLASSES.has(noun.cls)) {
      wantPlural = false;
      if (end) noun = this.source.noun(accept, end, false, opts.handled);
    }
    if (!noun) return null;
    const plural = (wantPlural || !!noun.pluralOnly) && !!noun.plural && !noun.name;
    const adj = !noun.name && chance(opts.adjective ?? 0.25, r) ? this.source.adj(false, false, true, noun) : null;
    let det = determiner(noun, plural, r, opts);
    // One perspective per stanza: `my` in a stanza of `I`, `our` in one of `we` (never both: lyrics round 10).
    if (det === 'my' || det === 'our') det = this.firstPossessive;
    // The prompt's things are the song's own: `the garden`, not `a garden` (the prompt named one).
    if (det === 'a' && noun.prompt && !opts.indefinite) det = 'the';
    // There is one sun, one sky: `the sun`, not `a sun`, `some sky` (lyrics round 16: `oneOfAKind`).
    if (!plural && oneOfAKind(noun) && det !== 'the' && det !== 'my' && det !== 'our' && det !== 'your') det = 'the';
    // A bare singular count noun reads as a telegram (`I see light`): give it `the`.
    const fixedDet = !det && !plural && !noun.name && COUNT_CLASSES.has(noun.cls) ? 'the' : det;
    return { tokens: phrase(fixedDet, adj, noun, plural), noun, plural };
  }

  /** Prepositional phrase whose preposition suits the noun's class. */
  pp(end: boolean, classes: ReadonlySet<string> = PP_CLASSES): Token[] | null {
    const got = this.np(classes, end, { definiteOnly: true, adjective: 0.3 });
    if (!got) return null;
    const preps = prepositionsFor(got.noun);
    if (!preps) return null;
    let prep = pick(preps, this.random);
    // `without the love` reads oddly; feelings and states after with/without take a possessive or nothing.
    if (
      (prep === 'with' || prep === 'without' || prep === 'in') &&
      /feeling|state/.test(got.noun.cls) &&
      got.tokens[0].text === 'the' &&
      got.tokens.length === 2
    )
      got.tokens.shift();
    if (prep === 'until' && got.noun.cls !== 'time') prep = 'in';
    this.lastPhraseTime = got.noun.cls === 'time';
    return [{ text: prep }, ...got.tokens];
  }

  /** Whether the last phrase `pp` made was of a time (`in the morning`), not a place (`by the river`). */
  private lastPhraseTime = false;

  /**
   * An adverb or a prepositional phrase after a clause; `after` narrows the phrase to what can follow (lyrics round
   * 15): after a verb with its object, no person (`Touch me with my cat`, `Carry me for my little sailor`: the person
   * is the object's place), after a verb of a state with its object only a time (`lose love by the skies`: see
   * `STATE_VERBS`); and a line whose fronted phrase has said where or when (`placed`) says the other one only (see
   * `besidesPlaced`).
   */
  private tail(end: boolean, probability: number, after: { object?: boolean; state?: boolean } = {}): Token[] | null {
    const r = this.random;
    if (!chance(probability, r)) return [];
    if (chance(0.2, r)) {
      const adv = this.source.adverb(end);
      if (adv) return adv.split(' ').map((text) => ({ text }));
    }
    return this.pp(end, this.besidesPlaced(after.state && after.object ? TIME_CLASSES : after.object ? OBJECT_PP_CLASSES : PP_CLASSES));
  }

  /**
   * What the line's fronted phrase (`By the lake, …`, `In the morning, …`) has said, while its clause is written: a
   * place or a time, or null. The clause then says the other one only: `In the morning, we walked by the river`, not
   * a second place (`In the daylight, we grew in the snow`, `By the stone, the fog moves by the sky`) nor a second
   * time (`Through the dawn, you could sink in the year`).
   */
  private placed: 'place' | 'time' | null = null;

  /** Phrase classes without the kind the fronted phrase has said (a person, `with my friends`, is neither). */
  private besidesPlaced(classes: ReadonlySet<string>): ReadonlySet<string> {
    if (!this.placed) return classes;
    let split = besidesCache.get(classes);
    if (!split) {
      split = {
        place: new Set([...classes].filter((c) => c === 'time' || c === 'being')),
        time: new Set([...classes].filter((c) => c !== 'time')),
      };
      besidesCache.set(classes, split);
    }
    return split[this.placed];
  }

  private subject(kind: 'person' | 'thing' | 'any'): Subject | null {
    const r = this.random;
    const usePronoun = kind === 'person' ? chance(0.75, r) : kind === 'any' ? chance(0.4, r) : false;
    if (usePronoun) {
      const p = chance(0.8, r) ? this.voice.pronoun : this.otherPronoun;
      return { tokens: [{ text: p }], third: false, plural: p !== 'I', person: true, pronoun: p };
    }
    const accept = kind === 'person' ? BEINGS : kind === 'any' ? SUBJECT_ANY_CLASSES : SUBJECT_THING_CLASSES;
    const got = this.np(accept, false, { definiteOnly: true, adjective: 0.35 });
    if (!got) return null;
    return { tokens: got.tokens, third: true, plural: got.plural, person: got.noun.cls === 'being', noun: got.noun };
  }

  private object(person: boolean, end: boolean, verb?: VerbItem, subject?: Subject): Token[] | null {
    const hinted = verb && this.random() < 0.8 ? this.source.objectOf(verb.key, end) : null;
    if (hinted) {
      const det = determiner(hinted, false, this.random, { definiteOnly: true });
      return phrase(det || (hinted.name ? '' : 'the'), null, hinted, false);
    }
    // Song verbs take the objects listed for them, none when not listed; the prompt's verbs go by their class.
    const fits = verb ? (VERB_OBJECTS[verb.base] ?? (SONG_VERBS.has(verb.base) ? NO_OBJECTS : undefined)) : undefined;
    // A song verb that takes none of our objects (`listen`, `wonder`), or no person (`write`).
    if (fits && (fits.size === 0 || (person && !fits.has('being')))) return null;
    if (person && !end && chance(0.5, this.random)) {
      // Not `I hold me` or `we lift us`: those need `myself`/`ourselves`, so a first-person subject takes
      // `you`, and `you` takes the stanza's first person (`me` or `us`, never both in one stanza).
      const who = subject?.pronoun;
      const p = who === 'I' || who === 'we' ? 'you' : who === 'you' ? this.firstObject : pick([this.firstObject, 'you'], this.random);
      return [{ text: p }];
    }
    const handled = !!verb && (HANDLING_VERBS.has(verb.base) || (!SONG_VERBS.has(verb.base) && /touch|make|consume|body/.test(verb.cls)));
    const got = this.np(person ? BEINGS : (fits ?? (verb && OBJECTS_BY_VERB_CLASS[verb.cls]) ?? THING_OBJECT_CLASSES), end, {
      adjective: 0.3,
      handled,
    });
    return got?.tokens ?? null;
  }

  /**
   * A clause about the noun the line must hold (the hook's subject), as the object of a verb that can
   * take it (`I remember the war`, `We miss the lighthouse`, `You hold my bicycle`) or the head of a
   * phrase after an intransitive clause (`We dance at the wedding`); null when neither fits.
   */
  private aboutClause(must: NounItem, end: boolean, tense: Tense): Token[] | null {
    const r = this.random;
    const plural = !!must.pluralOnly && !!must.plural && !must.name;
    const word = plural ? must.plural : must.singular;
    const who = chance(0.6, r) ? this.voice.pronoun : this.otherPronoun;
    const subject: Subject = { tokens: [{ text: who }], third: false, plural: who !== 'I', person: true, pronoun: who };
    // How the singer stands to it: plainly, still, able or not, never (`we still miss`, `I cannot forget`).
    // A subject whose valence is against the song's mood (`love` in a sad song) is sung as what is not
    // or cannot be (`I cannot find my love`), with a verb of no valence of its own.
    const against = this.source.opposesMood(word) && chance(0.8, r);
    const how = against ? 1 : r();
    const aux =
      how < 0.45 || (tense === 'future' && how < 0.75)
        ? null
        : tense === 'future'
          ? 'will not'
          : how < 0.6
            ? 'still'
            : how < 0.75
              ? pick(tense === 'past' ? ['could'] : ['can', 'will'], r)
              : pick(tense === 'past' ? ['could not', 'never'] : ['cannot', 'will not', 'never'], r);
    const verbText = (verb: VerbItem): Token[] => {
      const finiteForm = aux === null || aux === 'still' || aux === 'never' ? finite(verb, subject, tense) : verb.base;
      return [...(aux ? aux.split(' ').map((text) => ({ text })) : []), { text: finiteForm, key: verb.key }];
    };
    // A possessive agrees with the singer (`we miss our garden`, not `we lose my love`).
    const own = { I: 'my', we: 'our', you: 'your' }[who];
    const feeling = /feeling|state|mind/.test(must.cls);
    const det = (): string =>
      must.name
        ? ''
        : feeling
          ? chance(0.6, r)
            ? own
            : ''
          : chance(0.3, r) && must.cls !== 'being'
            ? own
            : chance(0.25, r)
              ? plural
                ? 'these'
                : 'this'
              : 'the';
    const preps = prepositionsFor(must);
    if (preps && (!this.placed || this.placed !== (must.cls === 'time' ? 'time' : 'place')) && chance(0.35, r)) {
      const verb = this.source.verb(FRAME.personIntransitive, false, tense === 'past' ? 'past' : 'base');
      if (!verb || !standsAlone(verb, subject.plural) || (end && !this.source.fitsEnd(word))) return null;
      const d = det();
      const prep = pick(preps, r);
      if (prep === 'for' && !takesFor(verb)) return null;
      return [
        ...subject.tokens,
        ...verbText(verb),
        { text: prep },
        ...phrase(d === 'this' || d === 'these' || feeling ? 'the' : d, null, must, plural),
      ];
    }
    // A prompt's thing of unknown class (`traffic`) is seen, missed, remembered: taken as an object one does not handle.
    const cls = must.cls === 'thing' ? 'artifact' : must.cls;
    const handleable = cls !== 'artifact' || !must.prompt;
    const verb = this.source.verbAmong(
      ABOUT_VERBS.filter((b) => VERB_OBJECTS[b]?.has(cls) && (handleable || !HANDLING_VERBS.has(b)) && (!against || valence(b) === 0)),
    );
    if (!verb) return null;
    const withTail = chance(0.35, r);
    if (end && !withTail && !this.source.fitsEnd(word)) return null;
    const adj = !must.name && chance(0.3, r) ? this.source.adj(false, false, true, must) : null;
    const tail = withTail ? this.tail(end, 1, { object: true, state: STATE_VERBS.has(verb.base) }) : [];
    if (!tail || (withTail && !tail.length)) return null;
    // A feeling with an adjective takes a determiner (`we find our lost love`, not `we find lost love`).
    const d = det() || (adj ? own : '');
    return [...subject.tokens, ...verbText(verb), ...phrase(d, adj, must, plural), ...withFor(tail, verb)];
  }

  /** One clause in the stanza's tense; `end` when the clause ends the line. */
  clause(end: boolean, tense: Tense = this.voice.tense): Token[] | null {
    const r = this.random;
    const must = this.source.mustNoun();
    if (must && chance(0.45, r)) {
      const about = this.aboutClause(must, end, tense);
      if (about) return about;
    }
    const roll = r();
    const t = (subject: Subject, verb: VerbItem) => finite(verb, subject, tense);
    if (roll < 0.2) {
      // Subj V_intransitive [Tail]
      const subject = this.subject(chance(0.6, r) ? 'person' : 'thing');
      if (!subject) return null;
      const frames = subject.person ? FRAME.personIntransitive : FRAME.thingIntransitive;
      const tail = this.tail(end, 0.75);
      if (!tail) return null;
      const verb = this.source.verb(frames, end && tail.length === 0, formFor(subject, tense));
      // Not a thing doing a person's deed (`the stone cries`), nor a verb that needs its object without one (`we see`).
      if (!verb || !standsAlone(verb, subject.plural) || (!subject.person && !thingMay(verb))) return null;
      // A person's deed towards the other: `I wait for you`, `we dance with you` (not when a place ends the line;
      // not before a phrase of its own, `I turn with you with your cat`, nor after a state: `I know to you`).
      if (subject.person && subject.pronoun && !end && chance(0.35, r) && !tail.some((x) => x.key) && !STATE_VERBS.has(verb.base))
        return [
          ...subject.tokens,
          { text: t(subject, verb), key: verb.key },
          ...towards(subject.pronoun, this.firstObject, verb, r),
          ...withFor(tail, verb),
        ];
      return [...subject.tokens, { text: t(subject, verb), key: verb.key }, ...withFor(tail, verb)];
    }
    if (roll < 0.42) {
      // Subj V_transitive Obj [Tail]
      const subject = this.subject('person');
      if (!subject) return null;
      const personObject = chance(0.35, r);
      const verb = this.source.verb(personObject ? FRAME.personPerson : FRAME.personThing, false, formFor(subject, tense));
      if (!verb) return null;
      const withTail = chance(0.35, r);
      const obj = this.object(personObject, end && !withTail, verb, subject);
      if (!obj) return null;
      const tail = withTail ? this.tail(end, 1, { object: true, state: STATE_VERBS.has(verb.base) }) : [];
      if (!tail) return null;
      if (withTail && tail.length === 0 && end && obj.length === 1) return null;
      return [...subject.tokens, { text: t(subject, verb), key: verb.key }, ...obj, ...withFor(tail, verb)];
    }
    if (roll < 0.55) {
      // Subj be Adj [Tail]
      const subject = this.subject('any');
      if (!subject) return null;
      const withTail = chance(0.4, r);
      const adj = this.source.adj(end && !withTail, subject.person, false, subject.noun);
      if (!adj) return null;
      const tail = withTail ? this.tail(end, 1) : [];
      if (!tail) return null;
      // `be` moves nowhere: `I was old by the sea`, not `toward the sea`.
      return [
        ...subject.tokens,
        { text: beFor(subject, tense) },
        ...this.degree(subject),
        { text: adj.word, key: adj.key },
        ...(placeOnly(tail) ?? []),
      ];
    }
    if (roll < 0.68) {
      // Subj be V_ing [Tail]
      const subject = this.subject(chance(0.6, r) ? 'person' : 'thing');
      if (!subject) return null;
      const tail = this.tail(end, 0.8);
      if (!tail) return null;
      const verb = this.source.verb(subject.person ? FRAME.personIntransitive : FRAME.thingIntransitive, end && tail.length === 0, 'ger');
      if (!verb || !takesProgressive(verb) || !standsAlone(verb, subject.plural) || (!subject.person && !thingMay(verb))) return null;
      return [
        ...subject.tokens,
        { text: beFor(subject, tense) },
        ...this.degree(subject, true),
        { text: verb.ger, key: verb.key },
        ...withFor(tail, verb),
      ];
    }
    if (roll < 0.8) {
      // Subj Modal V [Obj] [Tail] — tense-neutral.
      const subject = this.subject('person');
      if (!subject) return null;
      const modal =
        tense === 'past'
          ? pick(['could', 'would', 'could not', 'would not'], r)
          : tense === 'future'
            ? pick(['will', 'will not'], r)
            : pick(['will', 'can', 'cannot', 'will not', 'must'], r);
      const transitive = chance(0.55, r);
      if (transitive) {
        const verb = this.source.verb(FRAME.personThing, false, 'base');
        if (!verb) return null;
        const obj = this.object(false, end, verb, subject);
        if (!obj) return null;
        return [...subject.tokens, ...modal.split(' ').map((text) => ({ text })), { text: verb.base, key: verb.key }, ...obj];
      }
      const tail = this.tail(end, 0.8);
      if (!tail) return null;
      const verb = this.source.verb(FRAME.personIntransitive, end && tail.length === 0, 'base');
      if (!verb || !standsAlone(verb, subject.plural)) return null;
      return [...subject.tokens, ...modal.split(' ').map((text) => ({ text })), { text: verb.base, key: verb.key }, ...withFor(tail, verb)];
    }
    if (roll < 0.9) {
      // there be NP_indefinite PP
      // Where it is is not what a fronted phrase has said (`By the lake, there was a girl in the snow`), and what there
      // is is not a time (`there is a day by the rose`, `there are years in the snow`: lyrics round 15).
      const pp = placeOnly(this.pp(end, this.besidesPlaced(PP_CLASSES)));
      if (!pp) return null;
      const got = this.np(THERE_CLASSES, false, { indefinite: true, adjective: 0.5 });
      // Not where it is itself: `there is some rain in the rain`, `there was a sea beyond the sea`.
      // Nor one of a kind: `there is a sun in the spring` (lyrics round 16).
      if (!got || got.noun.name || oneOfAKind(got.noun) || pp.some((t) => t.key === got.noun.key)) return null;
      const be = beFor({ third: true, plural: got.plural }, tense);
      return [{ text: 'there' }, { text: be }, ...got.tokens, ...pp];
    }
    // NP keep(s) V_ing [Tail]
    const subject = this.subject('thing');
    if (!subject) return null;
    const tail = this.tail(end, 0.7);
    if (!tail) return null;
    const verb = this.source.verb(FRAME.thingIntransitive, end && tail.length === 0, 'ger');
    if (!verb || !takesProgressive(verb) || !thingMay(verb) || !standsAlone(verb, subject.plural)) return null;
    const keep = tense === 'past' ? 'kept' : tense === 'future' ? 'will keep' : subject.third && !subject.plural ? 'keeps' : 'keep';
    return [...subject.tokens, { text: keep }, { text: verb.ger, key: verb.key }, ...withFor(tail, verb)];
  }

  /**
   * A word between `be` and its adjective or participle, a third of the time: `we are still free`, `I am
   * so alone`, `we are all alone`, `I am always running`. Without one, `<place>, I am <adj>` was the
   * commonest line frame of short songs (docs/benchmarks.md, lyrics round 8). No negations (`never`,
   * `not`): they would flip the line's mood. `so` only before an adjective, `all` only after a plural subject.
   */
  private degree(subject: Subject, participle = false): Token[] {
    const r = this.random;
    if (!chance(DEGREE_SHARE, r)) return [];
    const words = participle ? ['still', 'always'] : subject.plural && subject.pronoun !== 'you' ? ['still', 'so', 'all'] : ['still', 'so'];
    return [{ text: pick(words, r) }];
  }

  /** An imperative: `Hold my hand in the rain`, `Let me wander through the night`. */
  imperative(end: boolean): Token[] | null {
    const r = this.random;
    if (chance(0.4, r)) {
      const tail = this.tail(end, 0.9);
      if (!tail) return null;
      const verb = this.source.verb(FRAME.personIntransitive, end && tail.length === 0, 'base');
      if (!verb || !standsAlone(verb, this.firstObject === 'us')) return null;
      return [{ text: 'let' }, { text: this.firstObject }, { text: verb.base, key: verb.key }, ...withFor(tail, verb)];
    }
    if (chance(0.3, r)) {
      // A person asked for: `Hold me in the rain`, `Call us tonight` (a function word on the weak note after the verb).
      const verb = this.source.verb(FRAME.personPerson, false, 'base');
      const fits = verb && (VERB_OBJECTS[verb.base] ?? (SONG_VERBS.has(verb.base) ? NO_OBJECTS : undefined));
      if (!verb || (fits && !fits.has('being')) || NOT_IMPERATIVE.has(verb.base)) return null;
      const tail = this.tail(end, 1, { object: true, state: STATE_VERBS.has(verb.base) });
      if (!tail || !tail.length) return null;
      return [{ text: verb.base, key: verb.key }, { text: this.firstObject }, ...withFor(tail, verb)];
    }
    const verb = this.source.verb(FRAME.personThing, false, 'base');
    // Nobody is told to miss, want or lose something (`Miss the lost rain`, `Want a house`: selection.ts).
    if (!verb || NOT_IMPERATIVE.has(verb.base)) return null;
    const withTail = chance(0.4, r);
    const obj = this.object(false, end && !withTail, verb);
    if (!obj) return null;
    const tail = withTail ? this.tail(end, 1, { object: true, state: STATE_VERBS.has(verb.base) }) : [];
    if (!tail) return null;
    return [{ text: verb.base, key: verb.key }, ...obj, ...withFor(tail, verb)];
  }

  /** A line may be an imperative (`Hold me in the rain`): a chorus asks, a verse tells (the writer turns it off there). */
  commands = true;

  /** Lines are noun-phrase fragments about the line's must-hold noun (a short hook that has no room for a clause). */
  fragments = false;

  /** Where in [0, 1) the window of fragment shapes this song draws from starts (FRAGMENT_WINDOW wide; from the request's seed). */
  fragmentLean = 0;

  /** Width of that window: FRAGMENT_WINDOW, or 1 (every shape) when no shape of the window fits the notes. */
  fragmentWindow = FRAGMENT_WINDOW;

  /**
   * A lyrical fragment naming a thing, in one of a few shapes a hook takes when it has no room for a
   * clause: `Oh, the lighthouse`, `My bicycle tonight`, `My garden, my garden`, `Only the lake`, `Back to
   * Lisbon`; against the mood, what is missing: `No love tonight`, `No love for me`, `No more love`,
   * `Where is my love?`.
   * Never a bare determiner and noun after a conjunction (`So my garden`: retune leads a fragment in
   * with `oh` only).
   */
  private fragment(must: NounItem): Token[] | null {
    const r = this.random;
    const plural = !!must.pluralOnly && !!must.plural && !must.name;
    const own = { I: 'my', we: 'our', you: 'your' }[this.voice.pronoun];
    const adverbTokens = (): Token[] => {
      const adverb = chance(0.5, r) ? this.source.adverb(true) : null;
      return adverb ? adverb.split(' ').map((text) => ({ text })) : [];
    };
    // Each request's seed leans to a third of the shapes (`fragmentLean`): two seeds of one request then
    // rarely write the same hook, which the best-ranked line of each would otherwise be.
    const shape = (this.fragmentLean + this.fragmentWindow * r()) % 1;
    // Against the mood, what is missing (`No love tonight` in a sad song).
    if (!must.name && this.source.opposesMood(must.singular)) {
      if (shape < 0.25) return [...phrase('no', null, must, plural), ...adverbTokens()];
      if (shape < 0.5) return [...phrase('no', null, must, plural), { text: 'for' }, { text: this.voice.pronoun === 'we' ? 'us' : 'me' }];
      if (shape < 0.75) return [{ text: 'no' }, { text: 'more' }, ...phrase('', null, must, plural)];
      return [{ text: 'where' }, { text: plural ? 'are' : 'is' }, ...phrase(own, null, must, plural), { text: '?' }];
    }
    const det = must.name ? '' : chance(0.5, r) ? own : 'the';
    const head = phrase(det, null, must, plural);
    // A place (or a name) one goes back to: `Back to the lake`, `Back to Lisbon`.
    if (shape < 0.15 && (must.name || must.cls === 'place' || must.cls === 'nature')) return [{ text: 'back' }, { text: 'to' }, ...head];
    if (shape < 0.3 && !must.name) return [...head, { text: ',' }, ...phrase(det, null, must, plural)];
    if (shape < 0.45) return [{ text: 'only' }, ...head];
    const lead: Token[] = chance(0.5, r) ? [{ text: 'oh' }, { text: ',' }] : [];
    return [...lead, ...head, ...adverbTokens()];
  }

  /**
   * A whole line: mostly one clause; sometimes two joined by a conjunction (longer phrases), a fronted
   * prepositional phrase, an imperative or a time word that moves the story (`now`, `tonight`).
   * A stanza told in the past gives no commands, nor one whose `commands` is off (lyrics round 13): `Follow
   * the silver snow` between `we were alone` and `there were last moments` breaks the story it tells; its
   * share goes to a clause.
   * @param long the phrase has room for two clauses.
   * @param opener a word to start the line with (`now` at verse 2), or null.
   */
  line(long: boolean, opener: string | null): Token[] | null {
    const r = this.random;
    const must = this.fragments ? this.source.mustNoun() : null;
    if (must) return this.fragment(must);
    let tokens: Token[] | null;
    const roll = r();
    if (long && roll < 0.55) {
      const first = this.clause(false);
      if (!first) return null;
      const conj = pick(['and', 'but', 'while', 'when', 'and', 'because'], r);
      const second = this.clause(true);
      if (!second) return null;
      tokens = [...first, { text: ',' }, { text: conj }, ...second];
    } else if (roll < 0.64) {
      // A fronted phrase says where or when, not which way: its clause's verb is not known yet (`Into the light, we
      // will not write`, `Toward the sun, I can read`), so a path's preposition becomes its place's (`In the light, …`).
      const pp = placeOnly(this.pp(false, SCENE_CLASSES));
      this.placed = this.lastPhraseTime ? 'time' : 'place';
      const clause = pp && this.clause(true);
      this.placed = null;
      tokens = pp && clause ? [...pp, { text: ',' }, ...clause] : null;
    } else if (roll < 0.74 && this.commands && this.voice.tense !== 'past') tokens = this.imperative(true);
    else tokens = this.clause(true);
    if (!tokens) return null;
    // `Still, I am still alone` says the turn twice.
    if (opener && tokens.some((t, i) => i > 0 && t.text === opener)) return null;
    if (opener && tokens[0].text !== opener) tokens = [{ text: opener }, { text: ',' }, ...tokens];
    return tokens;
  }
}

/**
 * `for you`, `with me`: a preposition and the other party of a pronoun subject (`I` → you, `you` → the
 * stanza's `me` or `us`); not `for` after a verb of moving or change (`we cross for you`: selection.ts).
 */
function towards(pronoun: 'I' | 'we' | 'you', first: 'me' | 'us', verb: VerbItem, r: () => number): Token[] {
  const other = pronoun === 'you' ? first : 'you';
  return [{ text: pick(takesFor(verb) ? ['for', 'with', 'to'] : ['with', 'to'], r) }, { text: other }];
}

/**
 * A tail after its verb: `for` turned to `with` after a verb of moving (`cross with my friend`), a path's preposition to
 * a place's after a verb that does not move (`touch me by the hill`, not `toward`: `prepositionAfter`).
 */
function withFor(tail: Token[], verb: VerbItem): Token[] {
  const first = tail[0]?.text;
  if (first === undefined || tail[0].key !== undefined) return tail;
  if (first === 'for' && !takesFor(verb)) return [{ text: 'with' }, ...tail.slice(1)];
  const prep = prepositionAfter(first, verb);
  return prep === first ? tail : [{ text: prep }, ...tail.slice(1)];
}

/** A phrase with a path's preposition turned to its place's (`into the rain` → `in the rain`: `prepositionAfter`). */
function placeOnly(pp: Token[] | null): Token[] | null {
  return pp && pp.length ? [{ text: prepositionAfter(pp[0].text, { cls: '' }) }, ...pp.slice(1)] : pp;
}

/** Classes of a phrase after a verb and its object: not a person (`Touch me with my cat`). */
const OBJECT_PP_CLASSES: ReadonlySet<string> = new Set([...PP_CLASSES].filter((c) => c !== 'being'));
/** Classes of a phrase after a verb of a state and its object: a time only (`I knew the music in the night`). */
const TIME_CLASSES: ReadonlySet<string> = new Set(['time']);
/** What `there is` can introduce: a person, nature, the weather, not a time (`there is a day by the rose`). */
const THERE_CLASSES: ReadonlySet<string> = new Set([...SUBJECT_ANY_CLASSES].filter((c) => c !== 'time'));

/** Phrase classes split by what a fronted phrase has said (`LineGrammar.besidesPlaced`), per class set. */
const besidesCache = new Map<ReadonlySet<string>, { place: ReadonlySet<string>; time: ReadonlySet<string> }>();

/** Width of the window of fragment shapes one song draws from (see `fragmentLean`). */
const FRAGMENT_WINDOW = 0.3;

/** Share of `be` clauses with a word of degree or time before the adjective or participle (`still`, `so`). */
const DEGREE_SHARE = 0.35;

/** A line's text from its tokens: commas and question marks attached, first letter capitalised, `i` as `I`. */
export function renderTokens(tokens: readonly Token[]): string {
  let out = '';
  for (const t of tokens) {
    if (t.text === ',' || t.text === '?') out += t.text;
    else out += (out ? ' ' : '') + (t.text === 'i' ? 'I' : t.text);
  }
  return out.charAt(0).toUpperCase() + out.slice(1);
}
