// What a conversion could not carry over from the Zuul layout, one note per occurrence: the report groups them
// by kind and counts them, and the YAML it writes carries the same text as a comment where it applies.

export interface Note {
  /** The group in the report, e.g. "trigger: email filter"; one sentence without its details. */
  readonly kind: string;
  /** The pipeline or project it is about. */
  readonly where: string;
  /** What exactly, and why it was not carried over. */
  readonly detail: string;
}
