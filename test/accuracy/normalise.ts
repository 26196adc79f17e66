/**
 * Text to the words a word error rate counts, so that a transcript is not
 * marked wrong for writing what was said in another form: lower case, no
 * punctuation, numbers in digits (see numbers.ts), hyphenated words split,
 * contractions in one form.
 *
 * Choices, each applied the same way to the reference and the transcript:
 * - Text in square brackets or parentheses is dropped: whisper writes its
 *   non-speech markers that way ([BLANK_AUDIO], (music)); nobody said
 *   them, and a reference text must not use brackets for spoken words.
 * - Contractions whose long form is certain are expanded ("don't" and
 *   "do not" match); "'s" and "'d" (is, has or possessive; had or would)
 *   only lose the apostrophe, so "it's" reads "its".
 * - Thousands separators go ("3,500" is "3500"), decimals stay ("3.5"),
 *   "%" is "percent", a colon between digits splits them ("7:15" is
 *   "7 15", as "seven fifteen" is).
 * - Accents are dropped ("café" is "cafe").
 * - Spelling variants (colour, color) are not merged: references use
 *   American spelling, as whisper's English models write it.
 */
import { numbersToDigits } from "./numbers.js";

/** Contractions with one long form, in the order they are expanded. */
const CONTRACTIONS: readonly [RegExp, string][] = [
  [/\bwon't\b/g, "will not"],
  [/\bcan't\b/g, "can not"],
  [/\bcannot\b/g, "can not"],
  [/\bshan't\b/g, "shall not"],
  [/n't\b/g, " not"],
  [/'re\b/g, " are"],
  [/'ll\b/g, " will"],
  [/'ve\b/g, " have"],
  [/'m\b/g, " am"],
];

/** Digits (with decimals, or an ordinal suffix), or a run of letters. */
const TOKEN = /\d+(?:\.\d+)?(?:st|nd|rd|th)?|\p{L}+/gu;

/** The words of `text` in the one form that word error rates compare. */
export function normaliseWords(text: string): string[] {
  // Accents go with the marks NFKD splits off: "café" is "cafe".
  let t = text.normalize("NFKD").replace(/\p{M}/gu, "").toLowerCase();
  t = t.replace(/[\u2018\u2019\u02bc`\u00b4]/g, "'");
  t = t.replace(/\[[^\]]*\]|\([^)]*\)/g, " ");
  for (const [pattern, long] of CONTRACTIONS) t = t.replace(pattern, long);
  t = t.replace(/'/g, "");

  t = t.replace(/(\d),(?=\d{3}(?!\d))/g, "$1");
  t = t.replace(/%/g, " percent ");
  t = t.replace(/\bper cent\b/g, "percent");
  t = t.replace(/&/g, " and ");
  // A number phrase never runs across a comma or a full stop: "100, 200"
  // is two numbers, though "100 200" is read out as "one hundred two..."
  return t
    .split(CLAUSE_BREAK)
    .flatMap((clause) => numbersToDigits(clause.match(TOKEN) ?? []));
}

/** Punctuation between clauses; a point before a digit is a decimal one. */
const CLAUSE_BREAK = /[,;:!?\u2013\u2014]|\.(?!\d)/;

/** {@link normaliseWords} joined by single spaces, for messages. */
export function normaliseText(text: string): string {
  return normaliseWords(text).join(" ");
}
