/**
 * The conversion's stages: the one list every layer derives its stage names from.
 *
 * A stage has one identity, its key in {@link STAGES} (`pitch_extraction`: the pipeline's progress
 * events, `report.json`'s timings and warnings, the CLI). The service spells the same stage two more
 * ways, both part of its contract and both derived here rather than listed again:
 * - {@link StageName} (`PITCH_EXTRACTION`): the key upper-cased, as stored in the database rows, published
 *   in progress events and shown as the GraphQL enum `ConversionStage`;
 * - {@link StageField} (`pitchExtraction`): the key camel-cased, the stage's field of GraphQL's
 *   `StageTimestamps`.
 */

/** Stages in the order they run, with the progress range (percent) each covers. */
export const STAGES = {
  validation: [0, 5],
  pitch_extraction: [15, 30],
  lyrics: [40, 60],
  synthesis: [70, 90],
  quality_check: [90, 95],
  finalization: [95, 100],
} as const satisfies Record<string, readonly [number, number]>;

/** A stage of the pipeline (a key of {@link STAGES}). */
export type ConversionStage = keyof typeof STAGES;

/** Every stage, in the order they run. */
export const STAGE_ORDER = Object.keys(STAGES) as readonly ConversionStage[];

/** How the service names a stage: its key upper-cased (`PITCH_EXTRACTION`). */
export type StageName = Uppercase<ConversionStage>;

/** `a_b_c` → `aBC`, at the type level. */
type CamelCase<S extends string> = S extends `${infer Head}_${infer Tail}` ? `${Head}${Capitalize<CamelCase<Tail>>}` : S;

/** A stage's field in GraphQL's `StageTimestamps`: its key camel-cased (`pitchExtraction`). */
export type StageField = CamelCase<ConversionStage>;

/** The service's name of `stage` (`pitch_extraction` → `PITCH_EXTRACTION`). */
export function stageName(stage: ConversionStage): StageName {
  return stage.toUpperCase() as StageName;
}

/** The `StageTimestamps` field of the stage named `name` (`PITCH_EXTRACTION` → `pitchExtraction`). */
export function stageField(name: StageName): StageField {
  return name.toLowerCase().replace(/_([a-z])/g, (_, letter: string) => letter.toUpperCase()) as StageField;
}

/**
 * The service's stage names as an enum-shaped object (each name keyed by itself, in run order): what
 * GraphQL registers as the enum `ConversionStage` (src/modules/conversion/conversion.types.ts).
 */
export const StageName = Object.fromEntries(STAGE_ORDER.map((stage) => [stageName(stage), stageName(stage)])) as {
  readonly [N in StageName]: N;
};

/** True when `value` is one of the service's stage names. */
export function isStageName(value: string | null | undefined): value is StageName {
  return typeof value === 'string' && Object.hasOwn(StageName, value);
}
