/**
 * Word error rate: the fewest word substitutions, deletions and
 * insertions that turn the reference into the transcript (Levenshtein
 * distance over words), divided by the number of reference words.
 */
import { normaliseWords } from "./normalise.js";

/** The edits between a reference and a transcript, counted by kind. */
export interface WordErrors {
  /** Words in the reference. */
  readonly words: number;
  readonly substitutions: number;
  readonly deletions: number;
  readonly insertions: number;
}

/**
 * The edits of a cheapest alignment of `hypothesis` to `reference`. Of
 * alignments that cost the same, substitutions are preferred, then
 * deletions: the total is the same whichever is taken.
 */
export function wordErrors(
  reference: readonly string[],
  hypothesis: readonly string[],
): WordErrors {
  const m = hypothesis.length;
  // Rolling rows: cost and the counts of each kind along the chosen path.
  let prev = Row.first(m);
  for (let i = 1; i <= reference.length; i++) {
    const cur = new Row(m);
    cur.set(0, prev, 0, "deletion");
    for (let j = 1; j <= m; j++) {
      const same = reference[i - 1] === hypothesis[j - 1];
      const diagonal = prev.cost[j - 1]! + (same ? 0 : 1);
      const up = prev.cost[j]! + 1;
      const left = cur.cost[j - 1]! + 1;
      if (diagonal <= up && diagonal <= left) {
        cur.set(j, prev, j - 1, same ? "match" : "substitution");
      } else if (up <= left) {
        cur.set(j, prev, j, "deletion");
      } else {
        cur.set(j, cur, j - 1, "insertion");
      }
    }
    prev = cur;
  }
  return {
    words: reference.length,
    substitutions: prev.subs[m]!,
    deletions: prev.dels[m]!,
    insertions: prev.ins[m]!,
  };
}

type Edit = "match" | "substitution" | "deletion" | "insertion";

/** One row of the alignment table. */
class Row {
  readonly cost: Int32Array;
  readonly subs: Int32Array;
  readonly dels: Int32Array;
  readonly ins: Int32Array;

  constructor(m: number) {
    this.cost = new Int32Array(m + 1);
    this.subs = new Int32Array(m + 1);
    this.dels = new Int32Array(m + 1);
    this.ins = new Int32Array(m + 1);
  }

  /** The row before any reference word: j insertions to reach column j. */
  static first(m: number): Row {
    const row = new Row(m);
    for (let j = 0; j <= m; j++) {
      row.cost[j] = j;
      row.ins[j] = j;
    }
    return row;
  }

  /** Cell `j` is cell `k` of `from` plus one `edit`. */
  set(j: number, from: Row, k: number, edit: Edit): void {
    const cost = edit === "match" ? 0 : 1;
    this.cost[j] = from.cost[k]! + cost;
    this.subs[j] = from.subs[k]! + (edit === "substitution" ? 1 : 0);
    this.dels[j] = from.dels[k]! + (edit === "deletion" ? 1 : 0);
    this.ins[j] = from.ins[k]! + (edit === "insertion" ? 1 : 0);
  }
}

/** Substitutions, deletions and insertions together. */
export function errorCount(e: WordErrors): number {
  return e.substitutions + e.deletions + e.insertions;
}

/**
 * Errors over reference words: 0 for an empty reference and transcript,
 * Infinity for words heard where none were said. It can exceed 1.
 */
export function errorRate(e: WordErrors): number {
  const errors = errorCount(e);
  if (e.words === 0) return errors === 0 ? 0 : Infinity;
  return errors / e.words;
}

/**
 * The counts of several texts together: their rate weighs each text by
 * its words, unlike a mean of rates.
 */
export function sumErrors(all: readonly WordErrors[]): WordErrors {
  return all.reduce(
    (sum, e) => ({
      words: sum.words + e.words,
      substitutions: sum.substitutions + e.substitutions,
      deletions: sum.deletions + e.deletions,
      insertions: sum.insertions + e.insertions,
    }),
    { words: 0, substitutions: 0, deletions: 0, insertions: 0 },
  );
}

/** The edits between two texts after {@link normaliseWords}. */
export function textErrors(reference: string, hypothesis: string): WordErrors {
  return wordErrors(normaliseWords(reference), normaliseWords(hypothesis));
}
