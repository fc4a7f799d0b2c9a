/**
 * Curated vocabulary for the embedded lyrics writer, written for this project. Every word is in the
 * CMU Pronouncing Dictionary (a unit test checks it). Words are grouped by the template slot they can
 * fill:
 *
 * - `N`  noun that reads well after `the` (`the river`, `the rain`)
 * - `A`  adjective before a noun or after `so` (`the golden light`, `I feel so alive`)
 * - `VI` verb used without an object after a subject (`we shine`, `let the river flow`)
 * - `VT` verb taking `the …` as object (`I remember the summer`)
 * - `G`  intransitive `-ing` form (`dancing in the rain`)
 * - `X`  line-ending adverbial (`we run tonight`, `we fly away`)
 * - `B`  body/inner noun after `my`/`your` (`the fire in my heart`); `BS` the singular ones (`my heart is wild`)
 *
 * The general bank gives the rhyme families their depth (light/night/bright/tonight…); the genre and
 * mood banks only raise the odds of on-theme words.
 */

export type SlotPos = 'N' | 'A' | 'VI' | 'VT' | 'G' | 'X' | 'B' | 'BS' | 'P';

export type WordBank = Partial<Record<SlotPos, string>>;

/** Everyday lyric vocabulary, rich in rhyme families. */
export const GENERAL_BANK: WordBank = {
  N: `light night sky fire rain road home dream star sun moon sea shore wind storm river ocean city street window
    door morning evening summer winter autumn shadow mountain valley garden flower rose song voice name face smile time
    day way world life love line sign place space grace flame game train lane chain stone bridge tide wave sand field
    snow breeze cloud thunder silence memory story island highway harbor candle mirror letter promise secret season
    sunrise sunset horizon heaven angel echo feather diamond treasure freedom wonder spirit truth gate town crown ground
    sound kingdom dawn sea tree air prayer year tear heart art part start ring wing thing king spring sight flight
    kite bay ray gold glow snow show shadow rhythm beat street sweet heat dust trust rust west rest chest quest
    desire wire choir tune noon June stream beam team gleam shine pride tide ride side morning meadow forest desert
    thunder lightning ember embrace race chase frame spark dark park mark music magic moment motion emotion devotion
    whisper wonder number summer hunger island highland darkness kindness glory story melody harmony destiny mystery
    paradise universe galaxy symphony energy`,
  A: `bright white blue true new old cold bold wild free young strong long slow high deep sweet warm soft dark wide
    lonely golden silver endless broken gentle quiet restless shining fading burning open hidden distant tender
    crazy happy heavy empty holy brave proud lost clear dear sad gray hard fine divine electric faded hollow green
    little secret sacred perfect precious lovely beautiful wonderful magical radiant infinite delicate glorious`,
  VI: `shine fly run stay rise fall dance sing glow burn cry breathe dream wait grow go stand hide roam fade play pray
    wander ride sway drift rest begin believe remain return survive arrive sleep float flow move laugh live try climb
    fight turn heal kneel smile stray last glide`,
  VT: `hold find chase feel see know need call keep follow remember carry hear touch reach miss love want save break
    take face trust paint cross light sing share hold`,
  G: `dancing shining flying running falling burning dreaming singing waiting fading rising glowing breathing drifting
    wandering floating sailing riding climbing racing shaking crying laughing living praying swaying spinning turning
    healing sleeping rolling smiling walking`,
  X: `tonight today away again forever alone inside together tomorrow around home free high now above`,
  B: `heart soul mind eyes hands head chest veins bones voice arms dreams`,
  BS: `heart soul mind head chest voice`,
};

/** Extra weight for words that suit a mood. Keys are matched as substrings of the request's mood. */
export const MOOD_BANKS: Record<string, WordBank> = {
  happy: { N: 'sun summer sunshine smile light day party friends', A: 'bright happy golden sweet warm', VI: 'dance shine play sing smile laugh', G: 'dancing shining laughing singing', X: 'tonight today together' },
  joy: { N: 'sun sunshine smile light day', A: 'bright happy golden', VI: 'dance shine sing laugh', G: 'dancing laughing singing', X: 'tonight together' },
  upbeat: { N: 'sun party night light', A: 'bright electric', VI: 'dance shine move', G: 'dancing shining', X: 'tonight now' },
  sad: { N: 'rain tears shadow memory winter silence ghost goodbye', A: 'lonely broken cold empty gray blue quiet distant', VI: 'cry fade fall wait', G: 'crying fading falling waiting', X: 'alone again' },
  melanchol: { N: 'rain shadow memory autumn silence', A: 'lonely gray faded quiet distant', VI: 'fade fall wait', G: 'fading falling waiting', X: 'alone again' },
  love: { N: 'love heart kiss rose eyes promise moonlight embrace', A: 'tender sweet gentle warm dear', VI: 'dream stay', G: 'dreaming', X: 'forever together tonight' },
  romant: { N: 'love heart kiss rose moonlight embrace', A: 'tender sweet gentle', VI: 'dream stay', G: 'dreaming', X: 'forever together' },
  angry: { N: 'fire storm thunder war chains rage', A: 'wild burning restless heavy', VI: 'fight burn rise', G: 'burning fighting', X: 'tonight again' },
  calm: { N: 'river breeze ocean garden meadow morning silence', A: 'quiet gentle soft slow', VI: 'rest drift float flow breathe', G: 'drifting floating breathing', X: 'home' },
  peace: { N: 'river breeze garden meadow silence', A: 'quiet gentle soft', VI: 'rest drift float', G: 'drifting floating', X: 'home' },
  energ: { N: 'fire night city lights', A: 'electric wild', VI: 'run dance fly move', G: 'running dancing flying', X: 'tonight now' },
  nostalg: { N: 'memory summer photograph yesterday', A: 'old golden faded', VI: 'return', G: 'remembering', X: 'again tomorrow' },
  hope: { N: 'sunrise horizon light wings', A: 'new bright open', VI: 'rise believe grow', G: 'rising growing', X: 'tomorrow again' },
  dark: { N: 'shadow night midnight ghost', A: 'dark cold hollow', VI: 'hide fall', G: 'hiding falling', X: 'alone' },
  dream: { N: 'stars moon clouds sky dream', A: 'silver endless', VI: 'float drift dream', G: 'floating drifting dreaming', X: 'forever' },
};

/** Extra weight for words that suit a genre. Keys are matched as substrings of the request's genre. */
export const GENRE_BANKS: Record<string, WordBank> = {
  pop: { N: 'heart night party radio lights', A: 'bright young' },
  rock: { N: 'road highway fire engine thunder', A: 'wild loud', VI: 'ride roll', G: 'riding rolling' },
  folk: { N: 'river mountain valley field harvest home', A: 'old green' },
  ballad: { N: 'heart tears rose candle', A: 'tender' },
  country: { N: 'road field town river porch', A: 'dusty old' },
  rap: { N: 'city street crown game block', A: 'real fresh' },
  hip: { N: 'city street crown game block', A: 'real fresh' },
  jazz: { N: 'moon midnight city smoke', A: 'blue cool' },
  blues: { N: 'rain road train river', A: 'blue lonely' },
  dance: { N: 'lights beat night floor', A: 'electric', VI: 'dance move', G: 'dancing moving' },
  edm: { N: 'lights beat night', A: 'electric', VI: 'dance move', G: 'dancing' },
  electr: { N: 'lights beat night', A: 'electric', VI: 'move', G: 'moving' },
  soul: { N: 'soul heart touch love', A: 'smooth sweet' },
  metal: { N: 'fire steel storm iron', A: 'dark' },
  lullaby: { N: 'stars moon dream night', A: 'little soft' },
  child: { N: 'stars moon sun friends', A: 'little happy' },
};

/** Splits a bank's space-separated lists into arrays. */
export function bankWords(bank: WordBank, pos: SlotPos): string[] {
  const list = bank[pos];
  return list ? list.split(/\s+/).filter(Boolean) : [];
}
