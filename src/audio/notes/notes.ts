/**
 * Note segmentation: turns an f0 contour (PitchTrack) plus the audio's onset envelope into notes
 * `{start, end, midi, confidence}`.
 *
 * Steps, per voiced run of the contour:
 * 1. Voicing: a frame is voiced when hz > 0 and its voicedProbability ≥ `minVoicedProbability`.
 *    Unvoiced gaps up to `maxBridgeSeconds` are bridged (tracker dropouts, a breathy stretch inside a
 *    syllable) when the pitch on both sides agrees within a semitone and the voice does not come back
 *    with an attack (an onset followed by voice); gaps up to
 *    `maxTransitionSeconds` through which the audio level holds up are treated as dropouts too
 *    (bridged whatever the pitch on either side); otherwise a gap ends the note.
 * 2. Clean-up in MIDI units: frames an octave (12 ± 2.5 semitones) away from a 210 ms running median
 *    are folded back (octave errors), then a 5-frame median filter removes short blips.
 * 3. Legato splits: optimal piecewise-constant segmentation of the cleaned contour (least squares
 *    with a penalty per segment and a minimum segment length, solved exactly by dynamic programming;
 *    Jackson et al. 2005, "An algorithm for optimal partitioning of data on an interval"). The
 *    penalty is set so that vibrato up to ±100 cents at 5–7 Hz does not pay for a split, while a
 *    semitone step between notes of ≳ 120 ms each, or a larger step between shorter notes, does.
 *    Neighbouring segments whose medians differ by less than `mergeSemitones` are merged again
 *    (slow drift), so a new note needs a sustained move of at least that size.
 * 4. Glides: a short segment that travels a semitone or more towards the next note is merged into
 *    it, and each boundary is moved back towards where the contour starts leaving the previous
 *    note's pitch (by at most MAX_BOUNDARY_BACK_SECONDS). In singing the new note starts after the
 *    consonant: at a voicing break, or at the syllable's attack after a dip in level, or, when the
 *    contour glides into the new pitch through a consonant's dip in level with no sharp attack, where
 *    the glide arrives (ARRIVAL_*). A note after a
 *    rest starts where its level comes within REST_ATTACK_DB of its first REST_ATTACK_SECONDS' peak.
 * 5. Repeated notes: a segment is split at an onset (energy re-attack, see onsets.ts) followed by
 *    voice that lies at least `minNoteSeconds` and 0.1 s inside it, unless the part before the onset is shorter than
 *    0.2 s and 4 dB quieter than what follows (a sung voiced consonant leading into its vowel).
 * 6. Segments shorter than `minNoteSeconds` are dropped (blips). `midi` is the median of the
 *    cleaned contour over the stable part of the note (glide frames excluded).
 * 7. A short note a whole number of harmonics away from the note it touches is the tracker's
 *    octave error on breathy or creaky voice and joins that note (absorbOctaveJumps). Short unsure
 *    notes touching a neighbour are the scoop into it or the fall out of it and join
 *    it; short unsure notes on their own (breaths, noises) are dropped (absorbScoops). A short note
 *    within APPROACH_SEMITONES of a much longer note it runs into, on the way to it and with no attack
 *    between them, is the singer settling into that note, however steady, and joins it too; so does a
 *    short tail less than DRIFT_SEMITONES off the note it ends (the held pitch drifting).
 * 8. Repeated notes sung legato on one pitch, whose consonant leaves no energy onset: a note is split
 *    where the onset envelope's upper bands come back after a dip in their balance against the level,
 *    weighed with the vowel's change and the clip's rhythm (syllable-onsets.ts).
 *    A note the one before runs into at another pitch starts at the syllable's attack when an onset follows
 *    the pitch change within 0.05–0.2 s and the voiced pitch is still on its way in between (it glided through
 *    the consonant; the note starts with the vowel). So does a note after a rest that scoops in from another pitch.
 *    A short note less than a semitone (but at least half of one) off a much longer note it runs into or
 *    out of joins it even when attacked: the scoop or fall held for a moment on the syllable's consonant (8c).
 *    A note another runs straight into at another pitch, whose contour takes GLIDE_MIDDLE_MIN_SECONDS or more to
 *    settle on the new pitch, starts in the middle of that transition, where a listener hears the new note (8d).
 * 9. Confidence: a note that touches a neighbour less than CLOSE_STEP_SEMITONES away is less sure.
 */
import { hzToMidi } from '../pitch-math.js';
import { runSliced, type Sliced } from '../sliced.js';
import type { MonoAudio, NoteEvent, PitchTrack } from '../types.js';
import { computeOnsetEnvelope, pickOnsets, type OnsetEnvelope } from './onsets.js';
import { splitRepeatedSyllables } from './syllable-onsets.js';

/**
 * Notes with a confidence below this are flagged as unsure in the report (`lowConfidence`) so the user
 * can check and correct them (convert --melody). On SSVD train&valid (real sight-singing), issue 12's
 * seventh pass: 5.8 % of the notes fall below it and 60 % of those match an annotated note, against 87 %
 * of the others (2.8 %, 62 % and 86 % before step 9).
 */
export const LOW_CONFIDENCE = 0.7;

export interface NoteOptions {
  /** Notes (and voiced runs) shorter than this are dropped as blips; default 0.07 s. */
  minNoteSeconds?: number;
  /** Frames with hz > 0 but a lower voicedProbability count as unvoiced; default 0 (trust hz). */
  minVoicedProbability?: number;
  /** Unvoiced gaps up to this long inside a steady pitch are bridged unless the voice comes back with an attack (an onset followed by voice); default 0.05 s. */
  maxBridgeSeconds?: number;
  /**
   * Longer unvoiced gaps, up to this long, through which the audio level stays within 10 dB of the
   * notes around them and no onset occurs are tracker dropouts, not rests: they are bridged with a
   * straight line, so a steady pitch stays one note and a pitch change (a fast glide the tracker
   * lost) goes to the next note from where the previous one ended; default 0.2 s.
   */
  maxTransitionSeconds?: number;
  /**
   * Cost of one more note in the least-squares segmentation, in semitone²·seconds; default 0.08 (0.06 before issue 12: sung notes waver more than played ones; on SSVD train&valid 0.08 gains note F +0.008 with no loss on the melody fixtures; 0.1 already merges 0.2 s legato notes that glide into each other).
   * Larger values split legato steps less eagerly (and resist vibrato more).
   */
  changePenalty?: number;
  /** Adjacent segments whose median pitches differ by less than this are one note; default 0.5 semitone. */
  mergeSemitones?: number;
  /** Onset strength threshold in dB (see pickOnsets); default 3 dB. */
  onsetThresholdDb?: number;
  /** A precomputed onset envelope of the same audio on the pitch grid (saves recomputing it). */
  onsetEnvelope?: OnsetEnvelope;
}

interface Segment {
  /** First frame (inclusive). */
  start: number;
  /** Frame after the last (exclusive). */
  end: number;
  /** First frame of the stable part (after a glide in). */
  stableStart: number;
  midi: number;
}

const OCTAVE_WINDOW = 21;
const SMOOTH_WINDOW = 5;
const MAX_SEGMENT_SECONDS = 2;
const GLIDE_TOLERANCE = 0.35;
/**
 * Step 4 takes a segment of at most this long (s) with no plateau, travelling a semitone or more towards the
 * next note, for the glide into it. 0.3 s before issue 12's seventh pass: a sung portamento lasts 0.1–0.2 s,
 * while a 0.2–0.3 s note that slides on its way to the next one is a note (SSVD train&valid: note F +0.0010,
 * both halves up, 0.15 s the same; the melody fixtures and synthetic sung takes unchanged).
 */
const MAX_GLIDE_SECONDS = 0.2;
/**
 * A boundary between two notes of different pitch moves back from the least-squares cut to where the
 * contour leaves the previous note's pitch by at most this much (s) (step 4). An instrument's legato
 * change is over in a few frames, and the cut already lies in it: the melody fixtures need ≤ 20 ms
 * (10 ms cost violin 0.12 of note F at 50 ms, no walk-back cello and violin 0.28–0.30). A sung note change is a portamento of
 * 100–200 ms; walking back through all of it put the note's onset where the old vowel starts to fall,
 * 100–150 ms before the annotated onset, the largest class of missed notes on SSVD train&valid
 * (184 of 645 misses before issue 12's second pass; unlimited walk-back as before: note F 0.797, 20 ms: 0.815).
 */
const MAX_BOUNDARY_BACK_SECONDS = 0.02;
const ONSET_EDGE_SECONDS = 0.1;
/** A note split off before an onset is a consonant leading into it when shorter than this (s) ... */
const CONSONANT_SECONDS = 0.2;
/** ... and this many dB quieter (median level) than the first CONSONANT_SECONDS / 2 after the onset. */
const CONSONANT_DROP_DB = 4;
/**
 * An onset inside a steady pitch splits the note only if it is articulated (see `articulated` in
 * segmentNotes): its strength reaches ARTICULATION_STRENGTH_DB, or within ARTICULATION_BEFORE frames
 * before and ARTICULATION_AFTER after it the raw f0 jumps by ARTICULATION_JUMP_SEMITONES between
 * frames or pYIN's voiced mass dips by ARTICULATION_VOICING_DIP (or voicing drops out), or the level
 * falls ARTICULATION_DROP_DB below the peak of the preceding ARTICULATION_PEAK_SECONDS. Chosen on the
 * 617 energy onsets inside a steady sung pitch of SSVD train&valid (197 at an annotated onset): the
 * rule keeps 155 of the true ones and drops 321 of the 420 swells.
 */
const ARTICULATION_STRENGTH_DB = 6;
/** Semitone distances of a tracker's harmonic error from the true note (2×, 3×, 4×, ½× f0) (step 7a). */
const HARMONIC_JUMPS = [12, 19.02, 24, -12];
const OCTAVE_JUMP_TOLERANCE = 0.6;
const OCTAVE_JUMP_SECONDS = 0.25;
/** Notes shorter than this (s) and less confident than SCOOP_CONFIDENCE are scoops, falls or noises (step 7). */
const SCOOP_SECONDS = 0.15;
const SCOOP_CONFIDENCE = 0.8;
/**
 * Step 7b: a note shorter than APPROACH_SECONDS, within APPROACH_SEMITONES of the next note, which it
 * runs into and which is at least APPROACH_HOST_RATIO times as long, with no attack (an onset followed by
 * voice) within APPROACH_ATTACK_REACH frames of their junction, and on the way from the note before to
 * it, is the singer settling into that note (a scoop held for a moment, sure and steady, so step 7's
 * confidence test does not see it) and joins it. On SSVD train&valid the largest class of recoverable
 * pitch errors was a 0.14–0.2 s note about a semitone off at the start of an annotated note. The attack
 * test keeps a real short note that a new syllable or a re-struck note starts (piano, tongued and sung
 * consonant changes); "on the way" keeps a neighbour note (67 66 67). The same rule for a short note
 * at the end of a longer one (the voice sagging out of it) merged a legato scale step (72 71 69 in
 * notes.test.ts) and helped only one half of SSVD: not kept.
 */
const APPROACH_SECONDS = 0.22;
const APPROACH_SEMITONES = 1.5;
const APPROACH_HOST_RATIO = 1.5;
const APPROACH_ATTACK_REACH = 3;
/**
 * Step 7c: a note shorter than DRIFT_SECONDS that continues a note at least APPROACH_HOST_RATIO times
 * as long, within DRIFT_SEMITONES of it (less than any step of a tuned melody), with no attack at their
 * junction, is the held note's pitch sagging or rising at its end and joins it. On SSVD train&valid
 * held notes that drift 0.5–0.7 semitone near their end were split in two (mergeSemitones is 0.5);
 * raising mergeSemitones instead gained nothing (the merged note's median lands between the two).
 */
const DRIFT_SECONDS = 0.3;
const DRIFT_SEMITONES = 0.8;
/**
 * A note after a rest starts at the first frame within REST_ATTACK_DB of the loudest level of its first
 * REST_ATTACK_SECONDS (step 4). SSVD's annotated sung onsets follow our first voiced frame by a median
 * 25 ms; 80 ms keeps a sung voiced consonant (the voice fixture's "l", quieter than its vowel for
 * 70–150 ms) with its note, which the fixture's truth starts there; 6–8 dB moved the fixtures' onsets
 * late (F at 50 ms −0.02 to −0.09).
 */
const REST_ATTACK_SECONDS = 0.08;
const REST_ATTACK_DB = 10;
/**
 * Step 6: a note's pitch is the median over its stable part (after the glide into it) only when that part is
 * at least this fraction of the note; otherwise over the whole note. Step 4 can take a slow 0.2–0.3 s note
 * that slides a semitone on its way to the next one for a glide into that next note, and step 5 then splits
 * them again at the next syllable's onset: the first note's "stable part" is then its last few frames, the
 * fall into the next note, 1–2 semitones off what was held (SSVD train&valid, issue 12 seventh pass: 49 notes
 * missed with our frames over them on the annotated pitch; with 0.5 note F +0.0014, both halves up).
 */
const STABLE_MIN_FRACTION = 0.5;
/**
 * Step 9 (confidence only): a note touching a neighbour less than this many semitones away has its confidence
 * multiplied by CLOSE_STEP_FACTOR. On SSVD train&valid (issue 12, seventh pass) "touches a neighbour within
 * 1.2 semitones" told the notes that match no annotated note from those that do better than the confidence
 * itself (ranking AUC 0.66 against 0.60): with it the report flags 197 notes instead of 94, 78 of them wrong
 * instead of 36, and the unflagged notes' precision rises 0.864 → 0.873. A factor of 0.6–0.7 flagged a fifth of
 * all notes (precision 0.70): a flag that common would not point the user at the wrong ones.
 */
const CLOSE_STEP_SEMITONES = 1.2;
const CLOSE_STEP_FACTOR = 0.8;
/**
 * Step 8b: where one note runs straight into the next at another pitch and an onset (a syllable's attack)
 * follows the boundary by SYLLABLE_ATTACK_MIN_SECONDS to SYLLABLE_ATTACK_MAX_SECONDS, the new note starts
 * SYLLABLE_ATTACK_LEAD_SECONDS before that onset; the frames between stay with the note before. A singer's
 * pitch often reaches the next note during the consonant, before the syllable's vowel; SSVD's annotated onsets
 * sit at the vowel, 0.1–0.25 s after where the pitch changed (issue 12, eighth pass: 66 of the notes missed
 * "100–250 ms early after a pitch change", in 32 of them an onset within 50 ms of the annotated one). The
 * window and lead were chosen on SSVD train&valid (before the bounds below): 0.04–0.06 s / 0.17–0.2 s /
 * 0.01–0.03 s all score within 0.0008 of each other; past 0.2 s the onset is more often the next syllable's.
 */
const SYLLABLE_ATTACK_MIN_SECONDS = 0.05;
const SYLLABLE_ATTACK_MAX_SECONDS = 0.2;
const SYLLABLE_ATTACK_LEAD_SECONDS = 0.02;
/**
 * Step 8b moves a boundary only when less than this share of the frames between it and the onset already sit
 * within SYLLABLE_ATTACK_AT_PITCH semitones of the new note: the pitch is still on its way there (a glide through
 * the consonant). Where the contour is at the new pitch from the boundary on, the consonant is sung on the new
 * note and the note starts with it (the convention of the Festival voice and hum fixtures and of the synthetic
 * sung takes: without this bound and the next, note F 0.970 → 0.848 on hum-mum, 0.944 → 0.889 on voice-la,
 * 0.962 → 0.924 on the synthetic takes). On SSVD the boundaries the rule moved for the better had a median share
 * of 0.25, those it moved for the worse 0.94. An unvoiced frame in between (hum-mum's closed `m`) leaves the
 * boundary where step 4 put it. One change is still moved that the Festival truth puts at the consonant: voice-la's
 * fourth leap (a glide through the `l`), note F at 50 ms 0.833 → 0.778 (at 100 ms unchanged).
 */
const SYLLABLE_ATTACK_MAX_AT_PITCH = 0.35;
const SYLLABLE_ATTACK_AT_PITCH = 0.5;
/**
 * Step 8b for a note after a rest: the voice comes in below (or above) the note and scoops into it through the
 * syllable's consonant, and the note starts this long (s) before the vowel's onset. A scoop from silence has
 * no previous note's vowel to fall from, and its onset fires later in the attack than a legato change's: on
 * SSVD train&valid (issue 12, ninth pass; 29 notes after a rest started 100–250 ms before their annotation,
 * most with the pitch arriving and a second onset 0.1–0.2 s in) 0.02 / 0.03 / 0.04 / 0.05 s gained note F
 * +0.0008 / +0.0012 / +0.0014 / +0.0016 (both halves up each time).
 */
const SYLLABLE_ATTACK_AFTER_REST_LEAD_SECONDS = 0.04;
/** Step 8b leaves at least this much (s) of the new note after its moved start. */
const SYLLABLE_ATTACK_REST_SECONDS = 0.1;
/** Step 8b moves only boundaries between notes at least this far apart (semitones). */
const SYLLABLE_ATTACK_SEMITONES = 0.5;
/**
 * Step 8c: a touching note shorter than this (s) and FRAGMENT_MIN_SEMITONES to FRAGMENT_MAX_SEMITONES from a
 * much longer neighbour joins it. Chosen on SSVD train&valid (issue 12, ninth pass): of the extra notes that
 * split an annotated note of their own pitch, 47 followed a touching note of another pitch, mostly 0.12–0.3 s
 * and 0.5–1.5 semitones off, with an onset at the junction. A bound of 0.9 semitone keeps every tuned
 * semitone step (sung-boundaries.test.ts: a 0.18 s attacked note a semitone under the next stays a note).
 * Note F +0.0021 (24 joins, both halves up); up to 0.95 or 0.99 semitone +0.0028 / +0.0029, joining 3–6 more pieces that
 * sit within 5–10 cents of a semitone.
 */
const FRAGMENT_SECONDS = 0.25;
const FRAGMENT_MIN_SEMITONES = 0.5;
const FRAGMENT_MAX_SEMITONES = 0.9;
/**
 * Step 8d: a note that another note runs straight into at least GLIDE_MIDDLE_MIN_STEP semitones away starts in the
 * middle of the pitch transition, halfway between its boundary (where the contour leaves the previous note's
 * pitch, or where an earlier step put it) and the first of GLIDE_MIDDLE_STABLE_FRAMES frames in a row within
 * GLIDE_MIDDLE_STABLE_SEMITONES of the new note (where its pitch is stable), when that point lies at least
 * GLIDE_MIDDLE_MIN_SECONDS and at most GLIDE_MIDDLE_REACH_SECONDS after the boundary. A listener hears the new
 * note during the glide, not where the old vowel starts to fall: SSVD's annotations mostly leave the transition
 * out of both notes and start the new one where its pitch settles, while the fixtures' truth (Festival, the hums)
 * starts it at or soon after the glide's start; the middle is within 100 ms of both for glides up to 0.2 s. On
 * SSVD train&valid (issue 12, eleventh pass: of 51 notes after a pitch change that started 100–250 ms before their
 * annotation, 43 had an annotated gap of 50 ms or more after the previous note) note F
 * 0.8693 → 0.8748, both halves up; the stable point itself (the whole way) lost 0.007, 40 % / 60 % of the way
 * gained 0.005. An instrument's legato change settles within a few frames and is not moved: with 0.06 s instead
 * of 0.08 s (+0.0005 more on SSVD) a cello and two violin changes of the fixtures moved 30–35 ms late.
 */
const GLIDE_MIDDLE_MIN_STEP = 0.5;
const GLIDE_MIDDLE_STABLE_SEMITONES = 0.3;
const GLIDE_MIDDLE_STABLE_FRAMES = 3;
const GLIDE_MIDDLE_MIN_SECONDS = 0.08;
const GLIDE_MIDDLE_REACH_SECONDS = 0.3;
/** A short note touching no other is dropped as a breath or noise only below this confidence. */
const NOISE_CONFIDENCE = 0.6;
/** Reach (s) after a note boundary in which a voicing break moves the new note's onset (step 4). */
const VOICING_BREAK_SECONDS = 0.15;
/**
 * A frame is a voicing break when unvoiced and BREAK_DROP_DB under the new note's level, or when pYIN's
 * voiced mass is below WEAK_VOICING and it is ATTACK_DIP_DB under. Without the level conditions the
 * cello, violin and flute fixtures' legato changes (the tracker drops a frame or two, the level holds)
 * moved 30–60 ms late (note F at 50 ms −0.05 to −0.3).
 */
const WEAK_VOICING = 0.5;
const BREAK_DROP_DB = 10;
/** A voiced consonant's dip before the new syllable's attack, dB under the new note's level (step 4). */
const ATTACK_DIP_DB = 18;
/**
 * A sung note change that glides into the new pitch and then attacks it (the new syllable's vowel
 * after a consonant the voice kept going through): an onset at least SLOW_ATTACK_SECONDS after the
 * boundary, after a dip of SLOW_ATTACK_DIP_DB, starts the new note (step 4). The delay keeps an
 * instrument's change (pitch and attack together, the attack a frame or two after the contour's step:
 * the flute fixture's tongued changes) where it is; 12 dB rather than 18 dB because the slow glide
 * already says "voice". On SSVD train&valid: note F +0.005; 8 dB gained another +0.007 but moved the
 * hum and voice fixtures' onsets 60–100 ms late (their truth starts a note where its glide starts).
 */
const SLOW_ATTACK_SECONDS = 0.06;
const SLOW_ATTACK_DIP_DB = 12;
/**
 * A sung note change glides into the new pitch while the consonant between the two syllables is sung,
 * and the new note starts where its vowel does, at the end of the glide (step 4). The new note then
 * starts at the first frame whose cleaned contour is within ARRIVAL_SEMITONES of its pitch, when that
 * frame lies at least ARRIVAL_MIN_SECONDS and at most ARRIVAL_REACH_SECONDS after the boundary, the
 * level between the boundary and that frame dips at least ARRIVAL_DIP_DB under the loudest level of
 * the ARRIVAL_LOUD_SECONDS from it (the consonant), and no onset of ARRIVAL_MAX_ATTACK_DB or more lies
 * between the boundary and ARRIVAL_ATTACK_FRAMES after it (no struck or tongued attack), unless the glide
 * takes at least ARRIVAL_CLOSURE_SECONDS and the dip reaches ARRIVAL_CLOSURE_DB (a sung stop or plosive
 * between the syllables: a deep closure, then a sharp attack where the vowel starts). A glide sung on
 * sure voicing needs a shallower dip (ARRIVAL_VOICED_*).
 *
 * On SSVD train&valid (issue 12, fifth pass) the largest class of recoverable misses was a note after a
 * pitch change starting 100–250 ms before its annotation (110 of 539 misses), its boundary at the start
 * of the glide. Moving every such boundary to the arrival gained note F +0.017 but moved the instrument
 * fixtures' legato changes 20–50 ms late (cello, violin, flute: note F at 50 ms −0.2 to −0.4). A bow
 * change dips the level less than 6 dB and a tongued flute change has a sharp attack (4–7 dB) at the
 * change: the level conditions keep them. With 5 dB the cello and violin fixtures lost F at 50 ms
 * (0.69 → 0.62, 0.85 → 0.79), with a 5 dB attack limit the flute (0.84 → 0.74); 7 dB gained +0.007
 * instead of +0.010. The closure exception adds +0.002 (20 misses had an attack of 4–8.5 dB after a
 * 7–23 dB dip); with 8 dB it moved the voice fixture's 150 ms "la" glide (an 8.7 dB dip, F 0.94 → 0.89),
 * with 12 dB it gained nothing; with 30 ms instead of 50 ms it moved the flute's tongued changes (F at
 * 50 ms 0.84 → 0.79).
 */
const ARRIVAL_SEMITONES = 0.5;
const ARRIVAL_MIN_SECONDS = 0.02;
const ARRIVAL_REACH_SECONDS = 0.2;
const ARRIVAL_DIP_DB = 6;
const ARRIVAL_LOUD_SECONDS = 0.15;
const ARRIVAL_MAX_ATTACK_DB = 4;
const ARRIVAL_ATTACK_FRAMES = 3;
const ARRIVAL_CLOSURE_SECONDS = 0.05;
const ARRIVAL_CLOSURE_DB = 10;
/**
 * A glide of at least ARRIVAL_VOICED_SECONDS during which pYIN's voiced mass stays at ARRIVAL_VOICED or
 * more on every frame needs only an ARRIVAL_VOICED_DIP_DB dip: a voice keeps its periodicity through a
 * voiced consonant, while a bow change or a breath between blown notes costs the tracker its voicing for
 * a frame or two (at the moves that cost the fixtures: cello ≤ 0.32, violin ≤ 0.80). On SSVD
 * train&valid note F +0.002 (both halves up); 0.8 or 2 dB scored the same, 0.9 or 40 ms 0.001–0.002 less.
 */
const ARRIVAL_VOICED = 0.85;
const ARRIVAL_VOICED_DIP_DB = 3;
const ARRIVAL_VOICED_SECONDS = 0.03;
/**
 * An onset is a sung (or played) attack only if voice follows it: a frame with pYIN's voiced mass
 * ≥ ATTACK_VOICING within ATTACK_VOICE_FRAMES (30 ms) after it. A breathy or fricative stretch inside a
 * vowel is louder in the upper bands than the vowel and fires an onset where it starts, with no voice
 * after it; it used to split the syllable (the known "consonant inside a syllable" error of issue 12).
 */
const ATTACK_VOICING = 0.5;
const ATTACK_VOICE_FRAMES = 3;
/** Frames searched on each side of an unvoiced gap for surely voiced frames to compare pitches (step 1). */
const SURE_PITCH_REACH = 10;
const ARTICULATION_JUMP_SEMITONES = 0.3;
/**
 * Frame-to-frame f0 jumps larger than this (semitones) are the tracker's octave or harmonic errors
 * (a frame or two at 2× f0 inside a held note), not a consonant, and do not count as articulation.
 * On SSVD train&valid they split held notes (extra notes inside an annotated one).
 */
const ARTICULATION_MAX_JUMP_SEMITONES = 6;
/** 0.1 before issue 12's second pass; 0.2 on SSVD train&valid: note F +0.002, sequence accuracy +0.004, the synthetic sung row up, no fixture lower. */
const ARTICULATION_VOICING_DIP = 0.2;
const ARTICULATION_DROP_DB = 15;
const ARTICULATION_PEAK_SECONDS = 0.2;
const ARTICULATION_BEFORE = 5;
/** ... or the dip is at least ARTICULATION_MIN_DROP_DB deep and ARTICULATION_SPREAD_RATIO times the level's usual spread around it. */
const ARTICULATION_MIN_DROP_DB = 4;
const ARTICULATION_SPREAD_RATIO = 8;
const ARTICULATION_CONTEXT_SECONDS = 0.5;
const ARTICULATION_AFTER = 3;

/**
 * Segments a pitch track into notes.
 * @param pitch f0 contour on a fixed hop (0.01 s expected; other hops work, thresholds are in seconds).
 * @param audio the audio the track came from, for onsets that split repeated notes; `null` to
 *   segment on pitch alone (repeated notes then split only at unvoiced gaps longer than the bridge).
 * @returns notes sorted by start, non-overlapping, times in seconds, `midi` a float MIDI number.
 */
export function segmentNotes(pitch: PitchTrack, audio: MonoAudio | null, options: NoteOptions = {}): NoteEvent[] {
  return runSliced(segmentNotesSliced(pitch, audio, options));
}

/** {@link segmentNotes} as a sliced computation (see sliced.ts), yielding after each voiced run; same result. */
export function* segmentNotesSliced(pitch: PitchTrack, audio: MonoAudio | null, options: NoteOptions = {}): Sliced<NoteEvent[]> {
  const hop = pitch.hopSeconds;
  const frameCount = pitch.hz.length;
  if (frameCount === 0) return [];
  const minFrames = Math.max(2, Math.round((options.minNoteSeconds ?? 0.07) / hop));
  const minProbability = options.minVoicedProbability ?? 0;
  const bridgeFrames = Math.round((options.maxBridgeSeconds ?? 0.05) / hop);
  const transitionFrames = Math.round((options.maxTransitionSeconds ?? 0.2) / hop);
  const penalty = (options.changePenalty ?? 0.08) / hop;
  const mergeSemitones = options.mergeSemitones ?? 0.5;
  const t0 = pitch.times.length ? pitch.times[0] : 0;

  // Onsets, as frame indices on the pitch grid.
  const onsetAt = new Uint8Array(frameCount);
  const envelope = options.onsetEnvelope ?? (audio ? computeOnsetEnvelope(audio, { hopSeconds: hop }) : null);
  const onsetTimes = envelope ? pickOnsets(envelope, { thresholdDb: options.onsetThresholdDb }) : [];
  if (envelope) {
    for (const t of onsetTimes) {
      const k = Math.round((t - t0) / hop);
      if (k >= 0 && k < frameCount) onsetAt[k] = 1;
    }
  }
  const onsetIn = (from: number, to: number): number => {
    for (let k = Math.max(0, from); k < Math.min(frameCount, to); k++) if (onsetAt[k]) return k;
    return -1;
  };

  // Step 1: voiced frames in MIDI, NaN elsewhere; runs with short dropouts bridged.
  const midi = new Float64Array(frameCount);
  for (let k = 0; k < frameCount; k++) {
    const hz = pitch.hz[k];
    midi[k] = hz > 0 && pitch.voicedProbability[k] >= minProbability ? hzToMidi(hz) : NaN;
  }
  const runs = voicedRuns(midi);
  const levelAt = (k: number): number => {
    if (!envelope) return -Infinity;
    const j = k + Math.round(t0 / hop);
    return j >= 0 && j < envelope.levelDb.length ? envelope.levelDb[j] : -Infinity;
  };
  const strengthAt = (k: number): number => {
    if (!envelope) return 0;
    const j = k + Math.round(t0 / hop);
    return j >= 0 && j < envelope.strength.length ? envelope.strength[j] : 0;
  };
  // The level stays within 10 dB of the voiced frames on both sides throughout the gap.
  const sustained = (from: number, to: number): boolean => {
    const reference = Math.min(levelAt(from - 1), levelAt(to)) - 10;
    if (!Number.isFinite(reference)) return false;
    for (let k = from; k < to; k++) if (levelAt(k) < reference) return false;
    return true;
  };
  // A sung syllable's voiced consonant (l, m, n) already carries the new pitch, and the vowel's onset
  // follows 70–150 ms later with a rise of 5–10 dB (Festival's "la", "mum": the voice and hum fixtures
  // had 6 and 9 notes split in two this way). A note that would be split off at the start of a segment
  // and is short (< CONSONANT_SECONDS) and clearly quieter (CONSONANT_DROP_DB) than what follows the
  // onset is that consonant, and stays with its vowel. A short note of an instrument before a repeated
  // one is as loud as its repeat, so it still splits.
  const consonantHead = (from: number, onset: number, to: number): boolean => {
    if (!envelope || (onset - from) * hop >= CONSONANT_SECONDS) return false;
    const head = medianLevel(levelAt, from, onset);
    const vowel = medianLevel(levelAt, onset, Math.min(to, onset + Math.round(CONSONANT_SECONDS / 2 / hop)));
    return vowel - head >= CONSONANT_DROP_DB;
  };
  // A sung note held on one pitch swells and fades by 5–15 dB (tremolo, a phone's automatic gain and
  // noise suppression): on the SSVD sight-singing recordings two thirds of the energy onsets inside a
  // steady pitch were such swells, not new syllables. A new syllable or a re-struck note also disturbs
  // the waveform: the consonant (or the hammer, the bow change) breaks the periodicity, so the f0 jumps
  // or pYIN's voiced mass dips, or the attack is steep, or the level falls far before it. An onset
  // inside a steady segment splits it only when it shows one of these (see ARTICULATION_*).
  const articulated = (k: number): boolean => {
    if (!envelope) return true;
    const j = k + Math.round(t0 / hop);
    if (envelope.strength[Math.min(envelope.strength.length - 1, j + 1)] >= ARTICULATION_STRENGTH_DB) return true;
    let jump = 0;
    let leastVoiced = 1;
    for (let i = k - ARTICULATION_BEFORE; i <= k + ARTICULATION_AFTER; i++) {
      if (i < 1 || i >= frameCount) continue;
      const d = Math.abs(midi[i] - midi[i - 1]);
      if (d > jump && d <= ARTICULATION_MAX_JUMP_SEMITONES) jump = d;
      if (!(midi[i] === midi[i])) leastVoiced = 0;
      else leastVoiced = Math.min(leastVoiced, pitch.voicedProbability[i]);
    }
    if (jump >= ARTICULATION_JUMP_SEMITONES || leastVoiced <= 1 - ARTICULATION_VOICING_DIP) return true;
    let peak = -Infinity;
    for (let i = k - Math.round(ARTICULATION_PEAK_SECONDS / hop); i < k - 3; i++) peak = Math.max(peak, levelAt(i));
    let dip = Infinity;
    for (let i = k - 6; i <= k + 1; i++) dip = Math.min(dip, levelAt(i));
    const drop = peak - dip;
    if (drop >= ARTICULATION_DROP_DB) return true;
    // A dip that stands out from a steady level (a re-attack of an instrument or of a steady voice)
    // is articulated too: its depth against the median absolute deviation of the voiced level within
    // ±ARTICULATION_CONTEXT_SECONDS (the dip's own ±0.1 s left out).
    if (drop < ARTICULATION_MIN_DROP_DB) return false;
    const reach = Math.round(ARTICULATION_CONTEXT_SECONDS / hop);
    const own = Math.round(0.1 / hop);
    const levels: number[] = [];
    for (let i = Math.max(0, k - reach); i <= Math.min(frameCount - 1, k + reach); i++) {
      if (Math.abs(i - k) > own && midi[i] === midi[i]) levels.push(levelAt(i));
    }
    if (levels.length < 2 * own) return false;
    const centre = quickMedian(levels);
    const spread = quickMedian(levels.map((v) => Math.abs(v - centre)));
    return drop >= ARTICULATION_SPREAD_RATIO * Math.max(spread, 0.1);
  };
  // A sung attack is followed by voice: an onset with no voiced frame (pYIN's voiced mass ≥
  // ATTACK_VOICING) within ATTACK_VOICE_FRAMES after it is a noise burst (a breathy or fricative
  // stretch inside a vowel, a breath), not the start of a syllable or a re-struck note.
  const voiceFollows = (k: number): boolean => {
    for (let i = k + 1; i <= Math.min(frameCount - 1, k + ATTACK_VOICE_FRAMES); i++) {
      if (midi[i] === midi[i] && pitch.voicedProbability[i] >= ATTACK_VOICING) return true;
    }
    return false;
  };
  // Median of the first three frames from `from` towards `to` (exclusive, by `step`) with a voiced mass
  // of at least ATTACK_VOICING; null when there are none.
  const surePitch = (from: number, to: number, step: 1 | -1): number | null => {
    const values: number[] = [];
    for (let k = from; k !== to && values.length < 3; k += step) {
      if (midi[k] === midi[k] && pitch.voicedProbability[k] >= ATTACK_VOICING) values.push(midi[k]);
    }
    return values.length ? quickMedian(values) : null;
  };
  const merged: [number, number][] = [];
  for (const [start, end] of runs) {
    const last = merged[merged.length - 1];
    const gap = last ? start - last[1] : Infinity;
    if (last && gap <= transitionFrames) {
      // The pitch on each side is read from the nearest surely voiced frames: next to a breathy stretch
      // pYIN may keep an f0 for a few frames with almost no voiced mass, often a semitone off.
      const before =
        surePitch(last[1] - 1, Math.max(last[0], last[1] - SURE_PITCH_REACH) - 1, -1) ??
        medianOf(midi, Math.max(last[0], last[1] - 3), last[1]);
      const after = surePitch(start, Math.min(end, start + SURE_PITCH_REACH), 1) ?? medianOf(midi, start, Math.min(end, start + 3));
      // Octave-apart sides (a tracker error) count as the same pitch.
      const apart = Math.abs(before - after);
      // A short gap on one pitch is bridged unless the voice comes back with an attack (a new syllable
      // after its unvoiced consonant); a noise onset at the gap's start (a breathy stretch inside the
      // vowel, the voice coming back at the level it left) does not split the syllable. A longer gap is
      // bridged only when no onset at all falls near it and the level holds.
      let reattack = false;
      for (let k = Math.max(0, last[1] - 2); k < Math.min(frameCount, start + 4) && !reattack; k++)
        reattack = onsetAt[k] === 1 && voiceFollows(k);
      const sameSyllable = gap <= bridgeFrames && !reattack && (apart < 1 || Math.abs(apart - 12) < 1);
      if (sameSyllable || (onsetIn(last[1] - 2, start + 4) < 0 && sustained(last[1], start))) {
        // The gap stays NaN here and is filled after octave correction (step 2).
        last[1] = end;
        continue;
      }
    }
    merged.push([start, end]);
  }

  const notes: NoteEvent[] = [];
  const clean = new Float64Array(frameCount).fill(NaN);
  yield;
  for (const [runStart, runEnd] of merged) {
    if (runEnd - runStart < minFrames) continue;
    yield;
    // Step 2: octave folding against a wide running median, then a short median filter.
    const folded = midi.slice(runStart, runEnd);
    const wide = runningMedian(folded, OCTAVE_WINDOW);
    for (let i = 0; i < folded.length; i++) {
      // An octave error seen at a vibrato peak can sit 9.5–14.5 semitones from the running median.
      const d = folded[i] - wide[i];
      if (Math.abs(Math.abs(d) - 12) <= 2.5) folded[i] -= 12 * Math.sign(d);
    }
    // Bridged gaps become straight lines: a held pitch stays held, a pitch change becomes a glide.
    fillGaps(folded);
    const smooth = runningMedian(folded, SMOOTH_WINDOW);
    clean.set(smooth, runStart);

    // Step 3: least-squares segmentation, then merge neighbours closer than mergeSemitones.
    const maxFrames = Math.max(2 * minFrames + 1, Math.round(MAX_SEGMENT_SECONDS / hop));
    const cuts = optimalPartition(smooth, penalty, minFrames, maxFrames);
    let segments: Segment[] = [];
    for (let c = 0; c + 1 < cuts.length; c++) {
      const start = runStart + cuts[c];
      const end = runStart + cuts[c + 1];
      segments.push({ start, end, stableStart: start, midi: medianOf(clean, start, end) });
    }
    segments = mergeClose(segments, clean, mergeSemitones);

    // Step 4: glides join the note they lead into. A short segment without a plateau whose contour
    // moves by a semitone or more towards the next segment's pitch (and lies between its
    // neighbours) is the portamento into that note; then each boundary moves back towards where the contour leaves
    // the previous note's pitch, at most MAX_BOUNDARY_BACK_SECONDS.
    const maxGlide = Math.round(MAX_GLIDE_SECONDS / hop);
    const maxBack = Math.round(MAX_BOUNDARY_BACK_SECONDS / hop);
    for (let s = segments.length - 2; s >= 0; s--) {
      const glide = segments[s];
      const next = segments[s + 1];
      if (glide.end - glide.start > maxGlide) continue;
      const direction = Math.sign(next.midi - glide.midi);
      const travel = (clean[glide.end - 1] - clean[glide.start]) * direction;
      const between = s === 0 || (glide.midi - segments[s - 1].midi) * direction > 0;
      // A glide has no plateau: few of its frames sit near its own median, or it is still moving
      // towards the next note at its end.
      let plateau = 0;
      for (let k = glide.start; k < glide.end; k++) if (Math.abs(clean[k] - glide.midi) < GLIDE_TOLERANCE) plateau++;
      plateau /= glide.end - glide.start;
      const moving = (clean[glide.end - 1] - clean[Math.max(glide.start, glide.end - 3)]) * direction >= 0.25;
      if (travel >= 1 && between && (plateau < 0.4 || (plateau < 0.6 && moving))) {
        next.stableStart = next.start;
        next.start = glide.start;
        segments.splice(s, 1);
      }
    }
    for (let s = 1; s < segments.length; s++) {
      const a = segments[s - 1];
      const b = segments[s];
      const direction = Math.sign(b.midi - a.midi);
      let k = b.start;
      while (
        k - 1 >= a.start + minFrames &&
        b.start - (k - 1) <= maxBack &&
        (clean[k - 1] - a.midi) * direction > GLIDE_TOLERANCE &&
        clean[k - 1] * direction <= clean[k] * direction + 0.05
      ) {
        k--;
      }
      a.end = k;
      b.stableStart = Math.max(b.stableStart, b.start);
      b.start = k;
    }
    // A sung note change often passes through a consonant: voicing breaks or pYIN's voiced mass drops
    // for a few frames while the old vowel falls off. The new note starts when its voice is back
    // (annotators mark the onset where the new note's harmonics appear), not where the contour began
    // to leave the old pitch: the onset moves to the frame after the last voicing break (unvoiced, or
    // weakly voiced and quieter than the new note) within VOICING_BREAK_SECONDS of the boundary. A bowed
    // or blown legato change is weakly voiced too but not quieter, and keeps its boundary.
    const breakReach = Math.round(VOICING_BREAK_SECONDS / hop);
    const slowAttack = Math.round(SLOW_ATTACK_SECONDS / hop);
    for (let s = 1; s < segments.length; s++) {
      const a = segments[s - 1];
      const b = segments[s];
      let last = -1;
      const until = Math.min(b.end - minFrames, b.start + breakReach);
      let loud = -Infinity;
      for (let k = b.start; k < until + breakReach; k++) loud = Math.max(loud, levelAt(k));
      for (let k = b.start; k < until; k++) {
        if (
          !(midi[k] === midi[k])
            ? levelAt(k) <= loud - BREAK_DROP_DB
            : pitch.voicedProbability[k] < WEAK_VOICING && levelAt(k) <= loud - ATTACK_DIP_DB
        )
          last = k;
      }
      if (last < 0) {
        // The consonant may keep the voice going (a voiced /l/, /m/, /d/): then the syllable's attack,
        // an onset after a dip of ATTACK_DIP_DB, is where the new note starts.
        let quietest = Infinity;
        for (let k = b.start; k < until; k++) {
          quietest = Math.min(quietest, levelAt(k));
          if (k > b.start && onsetAt[k] && quietest <= loud - ATTACK_DIP_DB) last = k - 1;
        }
        // A slow sung glide into the new pitch, then its syllable's attack after a shallower dip.
        quietest = Infinity;
        for (let k = b.start; k < until && last < 0; k++) {
          quietest = Math.min(quietest, levelAt(k));
          if (k - b.start >= slowAttack && onsetAt[k] && quietest <= loud - SLOW_ATTACK_DIP_DB) last = k - 1;
        }
        if (last < 0) continue;
      }
      a.end = last + 1;
      b.start = last + 1;
      b.stableStart = Math.max(b.stableStart, b.start);
    }

    // A sung glide through a consonant into the new pitch: the new note starts where the glide arrives
    // (its vowel), when the level dips on the way and no sharp attack marks the change (ARRIVAL_*).
    if (envelope) {
      const arrivalReach = Math.round(ARRIVAL_REACH_SECONDS / hop);
      const arrivalMin = Math.round(ARRIVAL_MIN_SECONDS / hop);
      const loudFrames = Math.round(ARRIVAL_LOUD_SECONDS / hop);
      const arrivalClosure = Math.round(ARRIVAL_CLOSURE_SECONDS / hop);
      const arrivalVoiced = Math.round(ARRIVAL_VOICED_SECONDS / hop);
      for (let s = 1; s < segments.length; s++) {
        const a = segments[s - 1];
        const b = segments[s];
        if (a.end !== b.start) continue;
        const direction = Math.sign(b.midi - a.midi);
        let k = b.start;
        while (k < b.start + arrivalReach && k < b.end - minFrames && (b.midi - clean[k]) * direction > ARRIVAL_SEMITONES) k++;
        if (k - b.start < arrivalMin) continue;
        let loud = -Infinity;
        for (let i = k; i < Math.min(b.end, k + loudFrames); i++) loud = Math.max(loud, levelAt(i));
        let quiet = Infinity;
        for (let i = b.start; i <= k; i++) quiet = Math.min(quiet, levelAt(i));
        let attack = 0;
        for (let i = b.start; i <= k + ARRIVAL_ATTACK_FRAMES; i++) attack = Math.max(attack, strengthAt(i));
        // A sharp attack is a sung syllable's too after a closure of ARRIVAL_CLOSURE_DB at the end of a glide of
        // at least ARRIVAL_CLOSURE_SECONDS; a tongued or struck change is over sooner.
        const closure = k - b.start >= arrivalClosure && quiet <= loud - ARRIVAL_CLOSURE_DB;
        // A voice that stays surely voiced through a glide of ARRIVAL_VOICED_SECONDS needs a shallower dip.
        let leastVoiced = 1;
        for (let i = b.start; i <= k; i++) leastVoiced = Math.min(leastVoiced, midi[i] === midi[i] ? pitch.voicedProbability[i] : 0);
        const dip = leastVoiced >= ARRIVAL_VOICED && k - b.start >= arrivalVoiced ? ARRIVAL_VOICED_DIP_DB : ARRIVAL_DIP_DB;
        if (quiet > loud - dip || (attack >= ARRIVAL_MAX_ATTACK_DB && !closure)) continue;
        a.end = k;
        b.start = k;
        b.stableStart = Math.max(b.stableStart, k);
      }
    }

    // A note after a rest starts where its voice reaches its level (REST_ATTACK_DB under the loudest frame
    // of its first REST_ATTACK_SECONDS), not at the first frame pYIN calls voiced: its window sees the
    // periodicity of a sung attack's first quiet periods 20–40 ms before the note sounds.
    if (envelope) {
      const first = segments[0];
      const look = Math.min(first.end, first.start + Math.round(REST_ATTACK_SECONDS / hop));
      let loud = -Infinity;
      for (let k = first.start; k < look; k++) loud = Math.max(loud, levelAt(k));
      let k = first.start;
      while (k < look && k < first.end - minFrames && levelAt(k) < loud - REST_ATTACK_DB) k++;
      first.start = k;
      first.stableStart = Math.max(first.stableStart, k);
    }

    // Step 5: onsets inside a steady segment split repeated notes, unless what lies before the onset
    // is the voiced consonant that leads into it.
    const edge = Math.max(minFrames, Math.round(ONSET_EDGE_SECONDS / hop));
    for (const segment of segments) {
      let start = segment.start;
      let stableStart = segment.stableStart;
      for (let k = start + edge; k <= segment.end - minFrames; k++) {
        if (!onsetAt[k] || !voiceFollows(k) || !articulated(k) || consonantHead(start, k, segment.end)) continue;
        pushNote(notes, pitch, clean, folded, runStart, start, k, stableStart, minFrames);
        start = k;
        stableStart = k;
        k += edge - 1;
      }
      pushNote(notes, pitch, clean, folded, runStart, start, segment.end, stableStart, minFrames);
    }
  }
  // An attack (an onset followed by voice) within APPROACH_ATTACK_REACH frames of time t.
  const attackNear = (t: number): boolean => {
    const centre = Math.round((t - t0) / hop);
    for (let k = Math.max(0, centre - APPROACH_ATTACK_REACH); k <= Math.min(frameCount - 1, centre + APPROACH_ATTACK_REACH); k++) {
      if (onsetAt[k] && voiceFollows(k)) return true;
    }
    return false;
  };
  const segmented = splitRepeatedSyllables(absorbScoops(absorbOctaveJumps(notes, hop), hop, attackNear), envelope);
  return doubtCloseSteps(startInGlideMiddles(joinOffStepFragments(startAtSyllableAttacks(segmented, onsetTimes, pitch), hop), pitch), hop);
}

/**
 * Step 8c: a note shorter than FRAGMENT_SECONDS that runs straight into (or out of) a note at least
 * APPROACH_HOST_RATIO times as long, FRAGMENT_MIN_SEMITONES to FRAGMENT_MAX_SEMITONES away from it, joins it
 * (keeping the longer note's pitch), even with an attack at their junction. At least half a semitone off and
 * closer than any tuned step (a semitone), such a piece is the scoop into the note or the fall out of it held
 * for a moment, sung on the syllable's consonant (which fires the onset that steps 7b and 7c respect); a
 * struck or re-sung short note a semitone or more away stays a note.
 */
function joinOffStepFragments(notes: NoteEvent[], hop: number): NoteEvent[] {
  const fragmentOf = (note: NoteEvent, host: NoteEvent): boolean => {
    const distance = Math.abs(note.midi - host.midi);
    return (
      duration(note) < FRAGMENT_SECONDS &&
      duration(host) >= APPROACH_HOST_RATIO * duration(note) &&
      distance >= FRAGMENT_MIN_SEMITONES &&
      distance < FRAGMENT_MAX_SEMITONES
    );
  };
  return joinIntoTouching(notes, hop, fragmentOf, 'next');
}

/**
 * Joins each note for which `joins(note, host)` holds into the neighbour `host` it runs straight into or out
 * of, which keeps its pitch and takes the note's time; `first` is the neighbour tried first. A note already
 * joined into the next note is that note's start when the next note is tried in turn.
 */
function joinIntoTouching(
  notes: NoteEvent[],
  hop: number,
  joins: (note: NoteEvent, host: NoteEvent) => boolean,
  first: 'previous' | 'next',
): NoteEvent[] {
  const work = notes.slice();
  const out: NoteEvent[] = [];
  for (let i = 0; i < work.length; i++) {
    const note = work[i];
    const next = work[i + 1];
    const previous = out[out.length - 1];
    const intoNext = (): boolean => {
      if (!next || !touching(note, next, hop) || !joins(note, next)) return false;
      work[i + 1] = { ...next, start: note.start };
      return true;
    };
    const intoPrevious = (): boolean => {
      if (!previous || !touching(previous, note, hop) || !joins(note, previous)) return false;
      previous.end = note.end;
      return true;
    };
    if (first === 'next' ? intoNext() || intoPrevious() : intoPrevious() || intoNext()) continue;
    out.push({ ...note });
  }
  return out;
}

/** Whether `b` starts where `a` ends (within a frame and a half of `hop` seconds): no rest between them. */
function touching(a: NoteEvent, b: NoteEvent, hop: number): boolean {
  return b.start - a.end <= 1.5 * hop;
}

function duration(note: NoteEvent): number {
  return note.end - note.start;
}

/**
 * Step 8b: a note that another note at a different pitch runs straight into starts at the syllable's attack
 * when one follows the boundary within SYLLABLE_ATTACK_MIN_SECONDS to SYLLABLE_ATTACK_MAX_SECONDS and the pitch
 * has not yet arrived in between (SYLLABLE_ATTACK_MAX_AT_PITCH), voiced throughout: the pitch glided through the
 * consonant, the note starts with the vowel. The note before ends there too (legato), and no note's pitch
 * changes. A note after a rest whose voice scoops in from another pitch through its consonant starts
 * SYLLABLE_ATTACK_AFTER_REST_LEAD_SECONDS before the vowel's onset by the same test. `onsetTimes` ascending, in
 * seconds.
 */
function startAtSyllableAttacks(notes: NoteEvent[], onsetTimes: readonly number[], pitch: PitchTrack): NoteEvent[] {
  if (onsetTimes.length === 0) return notes;
  const hop = pitch.hopSeconds;
  const t0 = pitch.times.length ? pitch.times[0] : 0;
  // Share of the frames in [from, to) seconds whose f0 is within SYLLABLE_ATTACK_AT_PITCH of `midi`; NaN when
  // one of them is unvoiced (a voicing break there is step 4's to place).
  const shareAtPitch = (from: number, to: number, midi: number): number => {
    const first = Math.max(0, Math.round((from - t0) / hop));
    const last = Math.min(pitch.hz.length, Math.round((to - t0) / hop));
    let at = 0;
    for (let k = first; k < last; k++) {
      const hz = pitch.hz[k];
      if (!(hz > 0)) return NaN;
      if (Math.abs(hzToMidi(hz) - midi) <= SYLLABLE_ATTACK_AT_PITCH) at++;
    }
    return last > first ? at / (last - first) : NaN;
  };
  const out = notes.map((note) => ({ ...note }));
  let o = 0;
  for (let i = 0; i < out.length; i++) {
    const note = out[i];
    const before = i > 0 ? out[i - 1] : undefined;
    const legato = before !== undefined && note.start - before.end <= 1.5 * hop + 1e-9;
    if (legato && Math.abs(note.midi - before.midi) < SYLLABLE_ATTACK_SEMITONES) continue;
    while (o < onsetTimes.length && onsetTimes[o] <= note.start + SYLLABLE_ATTACK_MIN_SECONDS) o++;
    if (o === onsetTimes.length) break;
    const onset = onsetTimes[o];
    if (onset > note.start + SYLLABLE_ATTACK_MAX_SECONDS) continue;
    const start = onset - (legato ? SYLLABLE_ATTACK_LEAD_SECONDS : SYLLABLE_ATTACK_AFTER_REST_LEAD_SECONDS);
    if (note.end - start < SYLLABLE_ATTACK_REST_SECONDS) continue;
    // A note's first frame is centred half a hop after its start; after a rest the frame before it is unvoiced.
    const from = legato ? note.start : note.start + hop / 2;
    if (!(shareAtPitch(from, onset, note.midi) < SYLLABLE_ATTACK_MAX_AT_PITCH)) continue;
    if (legato) before.end = start;
    note.start = start;
  }
  return out;
}

/**
 * Step 8d: a note that another note at least GLIDE_MIDDLE_MIN_STEP semitones away runs straight into starts
 * halfway between its boundary and the point where its pitch becomes stable (see GLIDE_MIDDLE_*); the note
 * before ends there too. No note's pitch changes, and the new note keeps at least SYLLABLE_ATTACK_REST_SECONDS
 * after its stable point.
 */
function startInGlideMiddles(notes: NoteEvent[], pitch: PitchTrack): NoteEvent[] {
  const hop = pitch.hopSeconds;
  const t0 = pitch.times.length ? pitch.times[0] : 0;
  const out = notes.map((note) => ({ ...note }));
  // Frame k's f0 is within GLIDE_MIDDLE_STABLE_SEMITONES of `midi`.
  const near = (k: number, midi: number): boolean => {
    const hz = pitch.hz[k];
    return hz > 0 && Math.abs(hzToMidi(hz) - midi) <= GLIDE_MIDDLE_STABLE_SEMITONES;
  };
  for (let i = 1; i < out.length; i++) {
    const note = out[i];
    const before = out[i - 1];
    if (note.start - before.end > 1.5 * hop + 1e-9 || Math.abs(note.midi - before.midi) < GLIDE_MIDDLE_MIN_STEP) continue;
    const first = Math.round((note.start - t0) / hop);
    const until = Math.round((Math.min(note.end - SYLLABLE_ATTACK_REST_SECONDS, note.start + GLIDE_MIDDLE_REACH_SECONDS) - t0) / hop);
    let stable = -1;
    for (let k = Math.max(0, first); k < until && k + GLIDE_MIDDLE_STABLE_FRAMES <= pitch.hz.length && stable < 0; k++) {
      let run = 0;
      while (run < GLIDE_MIDDLE_STABLE_FRAMES && near(k + run, note.midi)) run++;
      if (run === GLIDE_MIDDLE_STABLE_FRAMES) stable = k;
    }
    if (stable < 0) continue;
    // Frame k covers [t0 + (k − ½)·hop, t0 + (k + ½)·hop): the stable part starts at the first frame's left edge.
    const settled = t0 + (stable - 0.5) * hop;
    if (settled - note.start < GLIDE_MIDDLE_MIN_SECONDS) continue;
    const start = (note.start + settled) / 2;
    before.end = start;
    note.start = start;
  }
  return out;
}

/**
 * Step 9: a note that runs straight into (or out of) a neighbour less than CLOSE_STEP_SEMITONES away is
 * less sure: a scoop, a fall or a drift cut off as a note, or one held note split in two, looks exactly
 * like that, while most sung steps between notes leave a gap or are larger. Its confidence is multiplied
 * by CLOSE_STEP_FACTOR (after every step that reads confidence, so the segmentation does not change).
 */
function doubtCloseSteps(notes: NoteEvent[], hop: number): NoteEvent[] {
  const close = (a: NoteEvent | undefined, b: NoteEvent | undefined): boolean =>
    a !== undefined && b !== undefined && touching(a, b, hop) && Math.abs(a.midi - b.midi) < CLOSE_STEP_SEMITONES;
  return notes.map((note, i) =>
    close(notes[i - 1], note) || close(note, notes[i + 1]) ? { ...note, confidence: note.confidence * CLOSE_STEP_FACTOR } : note,
  );
}

/**
 * Step 7a: on breathy or creaky voice the tracker can lock onto the second or third harmonic (or the
 * subharmonic) for a stretch longer than the octave fold of step 2 sees, at the end of a note as the
 * breath runs out or at its start. Such a stretch becomes a short note a whole number of harmonics
 * away from the note it touches: 12, 19 or 24 semitones above (f0 read at 2×, 3×, 4×) or 12 below
 * (½×), within OCTAVE_JUMP_TOLERANCE. A note like that, shorter than OCTAVE_JUMP_SECONDS and than the
 * note it touches, is that note's tail or head and joins it (keeping its pitch). A real octave leap is
 * two full notes and is kept.
 */
function absorbOctaveJumps(notes: NoteEvent[], hop: number): NoteEvent[] {
  const harmonicJump = (jump: NoteEvent, host: NoteEvent): boolean => {
    const d = jump.midi - host.midi;
    return HARMONIC_JUMPS.some((step) => Math.abs(d - step) <= OCTAVE_JUMP_TOLERANCE);
  };
  const tailOrHead = (note: NoteEvent, host: NoteEvent): boolean =>
    duration(note) < OCTAVE_JUMP_SECONDS && duration(host) > duration(note) && harmonicJump(note, host);
  return joinIntoTouching(notes, hop, tailOrHead, 'previous');
}

/**
 * Step 7: a short, unsure note that runs straight into a neighbour is the scoop into it (or the fall
 * out of the previous note) that the segmentation cut off: shorter than SCOOP_SECONDS, confidence
 * under SCOOP_CONFIDENCE (unsteady contour), no gap to the neighbour. It is merged into the note it
 * touches (the next one first: a sung note's onset is where its scoop starts), keeping that note's
 * pitch, so the note's pitch is its stable part. A short note that touches nothing and is less sure
 * than NOISE_CONFIDENCE is a breath or a noise between phrases and is dropped. Thresholds chosen on
 * SSVD train&valid (0.8 and 0.15 s: note F +0.004, sequence accuracy +0.03 over 0.6 and 0.12 s) with
 * no loss on the melody fixtures. Before that, step 7b (APPROACH_*): a short note a little off a much
 * longer neighbour it runs into, with no attack at the junction (`attackNear(t)`: an onset followed by
 * voice within APPROACH_ATTACK_REACH frames of t), joins it whatever its confidence.
 */
function absorbScoops(notes: NoteEvent[], hop: number, attackNear: (t: number) => boolean): NoteEvent[] {
  const out: NoteEvent[] = [];
  for (let i = 0; i < notes.length; i++) {
    const note = notes[i];
    const next = notes[i + 1];
    const previous = out[out.length - 1];
    // Whatever its confidence, a short note sung a little off the note it runs into, with no attack
    // between them, is the singer's approach to that note.
    const approach = (host: NoteEvent, junction: number): boolean =>
      note.end - note.start < APPROACH_SECONDS &&
      Math.abs(host.midi - note.midi) <= APPROACH_SEMITONES &&
      host.end - host.start >= APPROACH_HOST_RATIO * (note.end - note.start) &&
      !attackNear(junction);
    // On the way from the note before to the next one (a neighbour note, 67 66 67, is a real note).
    const between = (a: NoteEvent | undefined, b: NoteEvent | undefined): boolean =>
      !a || !b || !touching(a, note, hop) || !touching(note, b, hop) || (note.midi - a.midi) * (b.midi - note.midi) > 0;
    if (next && touching(note, next, hop) && between(previous, next) && approach(next, next.start)) {
      notes[i + 1] = { ...next, start: note.start };
      continue;
    }
    // A short tail a little off the held note before it, with no new attack: that note drifting.
    if (
      previous &&
      touching(previous, note, hop) &&
      note.end - note.start < DRIFT_SECONDS &&
      Math.abs(previous.midi - note.midi) <= DRIFT_SEMITONES &&
      previous.end - previous.start >= APPROACH_HOST_RATIO * (note.end - note.start) &&
      !attackNear(note.start)
    ) {
      previous.end = note.end;
      continue;
    }
    if (note.end - note.start >= SCOOP_SECONDS || note.confidence >= SCOOP_CONFIDENCE) {
      out.push({ ...note });
      continue;
    }
    if (next && touching(note, next, hop) && next.end - next.start >= SCOOP_SECONDS) {
      notes[i + 1] = { ...next, start: note.start };
    } else if (previous && touching(previous, note, hop) && previous.end - previous.start >= SCOOP_SECONDS) {
      previous.end = note.end;
    } else if (note.confidence >= NOISE_CONFIDENCE) {
      // A short note on its own that is steady enough is a staccato note, not a breath.
      out.push({ ...note });
    }
  }
  return out;
}

/** Step 6: appends the note for frames [start, end) unless it is a blip. */
function pushNote(
  notes: NoteEvent[],
  pitch: PitchTrack,
  clean: Float64Array,
  folded: Float64Array,
  runStart: number,
  start: number,
  end: number,
  stableStart: number,
  minFrames: number,
): void {
  if (end - start < minFrames) return;
  const hop = pitch.hopSeconds;
  // The note's pitch is that of its stable part, unless a later split (step 5) or boundary move left that part
  // shorter than STABLE_MIN_FRACTION of the note: then the "glide" before it was the note.
  const stable = end - stableStart >= Math.max(minFrames / 2, STABLE_MIN_FRACTION * (end - start)) ? stableStart : start;
  const centre = medianOf(clean, stable, end);
  let probability = 0;
  for (let k = start; k < end; k++) probability += pitch.voicedProbability[k];
  probability /= end - start;
  // Stability: median frame-to-frame change of the octave-corrected contour (vibrato at 6 Hz and
  // ±100 cents gives ≈ 0.25 semitone per 10 ms frame, a steady tone ≈ 0).
  const steps: number[] = [];
  for (let k = Math.max(start, runStart) + 1; k < end; k++) {
    const d = Math.abs(folded[k - runStart] - folded[k - 1 - runStart]);
    if (Number.isFinite(d)) steps.push(d);
  }
  const jitter = steps.length ? quickMedian(steps) : 0;
  const stability = 1 / (1 + (jitter / 0.5) ** 2);
  const duration = (end - start) * hop;
  const lengthFactor = Math.sqrt(Math.min(1, duration / 0.15));
  const confidence = Math.max(0, Math.min(1, (Number.isFinite(probability) ? probability : 0) * stability * lengthFactor));
  notes.push({
    start: Math.max(0, pitch.times[start] - hop / 2),
    end: pitch.times[end - 1] + hop / 2,
    midi: centre,
    confidence,
  });
}

/** Maximal runs of finite values as [start, end) pairs. */
function voicedRuns(values: Float64Array): [number, number][] {
  const runs: [number, number][] = [];
  let start = -1;
  for (let k = 0; k <= values.length; k++) {
    const voiced = k < values.length && Number.isFinite(values[k]);
    if (voiced && start < 0) start = k;
    if (!voiced && start >= 0) {
      runs.push([start, k]);
      start = -1;
    }
  }
  return runs;
}

/**
 * Exact optimal partition of `values` into segments of `minLength`..`maxLength` samples minimising
 * Σ (squared deviation from the segment mean) + `penalty` per segment.
 * @returns cut positions including 0 and values.length.
 */
function optimalPartition(values: Float64Array, penalty: number, minLength: number, maxLength: number): number[] {
  const n = values.length;
  if (n < 2 * minLength) return [0, n];
  let mean = 0;
  for (let i = 0; i < n; i++) mean += values[i];
  mean /= n;
  const s1 = new Float64Array(n + 1);
  const s2 = new Float64Array(n + 1);
  for (let i = 0; i < n; i++) {
    const v = values[i] - mean;
    s1[i + 1] = s1[i] + v;
    s2[i + 1] = s2[i] + v * v;
  }
  const best = new Float64Array(n + 1).fill(Infinity);
  const from = new Int32Array(n + 1);
  best[0] = 0;
  for (let j = minLength; j <= n; j++) {
    const lo = Math.max(0, j - maxLength);
    let value = Infinity;
    let arg = 0;
    for (let i = j - minLength; i >= lo; i--) {
      const previous = best[i];
      if (previous === Infinity) continue;
      const count = j - i;
      const sum = s1[j] - s1[i];
      const cost = previous + (s2[j] - s2[i]) - (sum * sum) / count + penalty;
      if (cost < value) {
        value = cost;
        arg = i;
      }
    }
    best[j] = value;
    from[j] = arg;
  }
  if (best[n] === Infinity) return [0, n];
  const cuts = [n];
  for (let j = n; j > 0; j = from[j]) cuts.push(from[j]);
  return cuts.reverse();
}

/** Repeatedly merges the adjacent pair with the closest medians while they differ by < `threshold`. */
function mergeClose(segments: Segment[], values: Float64Array, threshold: number): Segment[] {
  const list = segments.slice();
  for (;;) {
    let bestIndex = -1;
    let bestGap = threshold;
    for (let s = 1; s < list.length; s++) {
      const gap = Math.abs(list[s].midi - list[s - 1].midi);
      if (gap < bestGap) {
        bestGap = gap;
        bestIndex = s;
      }
    }
    if (bestIndex < 0) return list;
    const a = list[bestIndex - 1];
    const b = list[bestIndex];
    list.splice(bestIndex - 1, 2, { start: a.start, end: b.end, stableStart: a.stableStart, midi: medianOf(values, a.start, b.end) });
  }
}

/** Replaces runs of NaN between finite values by linear interpolation (edges: nearest value). */
function fillGaps(values: Float64Array): void {
  let previous = -1;
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i])) continue;
    if (i - previous > 1) {
      const from = previous >= 0 ? values[previous] : values[i];
      for (let k = previous + 1; k < i; k++) values[k] = from + ((values[i] - from) * (k - previous)) / (i - previous);
    }
    previous = i;
  }
  if (previous >= 0) for (let k = previous + 1; k < values.length; k++) values[k] = values[previous];
}

/** Median over a centred window of `width` samples, shrunk at the edges, skipping NaN (NaN if all are). */
function runningMedian(values: Float64Array, width: number): Float64Array {
  const n = values.length;
  const half = width >> 1;
  const out = new Float64Array(n);
  const buffer = new Float64Array(width);
  for (let i = 0; i < n; i++) {
    const from = Math.max(0, i - half);
    const to = Math.min(n, i + half + 1);
    let count = 0;
    for (let k = from; k < to; k++) {
      // Insertion sort into the small buffer.
      const v = values[k];
      if (v !== v) continue;
      let p = count++;
      while (p > 0 && buffer[p - 1] > v) {
        buffer[p] = buffer[p - 1];
        p--;
      }
      buffer[p] = v;
    }
    out[i] = count === 0 ? NaN : count & 1 ? buffer[count >> 1] : 0.5 * (buffer[(count >> 1) - 1] + buffer[count >> 1]);
  }
  return out;
}

/** Median of level(k) over frames [from, to) (finite values only; −Infinity when there are none). */
function medianLevel(level: (k: number) => number, from: number, to: number): number {
  const list: number[] = [];
  for (let k = from; k < to; k++) {
    const v = level(k);
    if (Number.isFinite(v)) list.push(v);
  }
  return list.length ? quickMedian(list) : -Infinity;
}

/** Median of the finite values in values[from, to); NaN when there are none. */
function medianOf(values: Float64Array, from: number, to: number): number {
  const list: number[] = [];
  for (let k = from; k < to; k++) if (Number.isFinite(values[k])) list.push(values[k]);
  return list.length ? quickMedian(list) : NaN;
}

function quickMedian(list: number[]): number {
  list.sort((a, b) => a - b);
  const mid = list.length >> 1;
  return list.length & 1 ? list[mid] : 0.5 * (list[mid - 1] + list[mid]);
}
