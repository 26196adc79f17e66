/**
 * Numbers in one form for comparing transcripts: the reference may say
 * "twenty-five thousand" where whisper writes 25,000, or "one hundred and
 * twelve" where it writes "100 and 12". Numbers are compared as spoken:
 * digits are first read out as words, then every number phrase is written
 * back in digits. Cardinals up to the billions, "a hundred", "and" after
 * a scale word, ordinals ("twenty-first" and "21st" both become "21st")
 * and decimals read digit by digit ("three point five").
 *
 * Reading digits out means numbers written side by side join as they
 * would when said: "20 5" is "25", like "twenty five".
 *
 * Not handled, on purpose: years read in pairs ("nineteen eighty-seven"
 * stays "19 87"; a reference should write years as digits, which is what
 * whisper writes), "oh" for zero, fractions and currency.
 */

const UNITS: ReadonlyMap<string, number> = new Map([
  ["zero", 0],
  ["one", 1],
  ["two", 2],
  ["three", 3],
  ["four", 4],
  ["five", 5],
  ["six", 6],
  ["seven", 7],
  ["eight", 8],
  ["nine", 9],
]);

const TEENS: ReadonlyMap<string, number> = new Map([
  ["ten", 10],
  ["eleven", 11],
  ["twelve", 12],
  ["thirteen", 13],
  ["fourteen", 14],
  ["fifteen", 15],
  ["sixteen", 16],
  ["seventeen", 17],
  ["eighteen", 18],
  ["nineteen", 19],
]);

const TENS: ReadonlyMap<string, number> = new Map([
  ["twenty", 20],
  ["thirty", 30],
  ["forty", 40],
  ["fifty", 50],
  ["sixty", 60],
  ["seventy", 70],
  ["eighty", 80],
  ["ninety", 90],
]);

const SCALES: ReadonlyMap<string, number> = new Map([
  ["thousand", 1e3],
  ["million", 1e6],
  ["billion", 1e9],
]);

/** Ordinal words and the cardinal word each stands for. */
const ORDINALS: ReadonlyMap<string, string> = new Map([
  ["first", "one"],
  ["second", "two"],
  ["third", "three"],
  ["fourth", "four"],
  ["fifth", "five"],
  ["sixth", "six"],
  ["seventh", "seven"],
  ["eighth", "eight"],
  ["ninth", "nine"],
  ["tenth", "ten"],
  ["eleventh", "eleven"],
  ["twelfth", "twelve"],
  ["thirteenth", "thirteen"],
  ["fourteenth", "fourteen"],
  ["fifteenth", "fifteen"],
  ["sixteenth", "sixteen"],
  ["seventeenth", "seventeen"],
  ["eighteenth", "eighteen"],
  ["nineteenth", "nineteen"],
  ["twentieth", "twenty"],
  ["thirtieth", "thirty"],
  ["fortieth", "forty"],
  ["fiftieth", "fifty"],
  ["sixtieth", "sixty"],
  ["seventieth", "seventy"],
  ["eightieth", "eighty"],
  ["ninetieth", "ninety"],
  ["hundredth", "hundred"],
  ["thousandth", "thousand"],
  ["millionth", "million"],
  ["billionth", "billion"],
]);

/** The English suffix of ordinal `n`: 1st, 2nd, 3rd, 4th, 11th, 21st. */
export function ordinalSuffix(n: number): string {
  const lastTwo = n % 100;
  if (lastTwo >= 11 && lastTwo <= 13) return "th";
  return ["th", "st", "nd", "rd"][n % 10] ?? "th";
}

/** `n` written as an ordinal in digits: 21 -> "21st". */
export function ordinal(n: number): string {
  return `${n}${ordinalSuffix(n)}`;
}

/** What the last word of a number phrase was, which decides what may follow. */
type Last = "zero" | "unit" | "teen" | "tens" | "hundred" | "scale";

/** A number phrase being read, word by word. */
class Reader {
  /** Sum of the parts already closed by a scale word (thousand, million). */
  private total = 0;
  /** The part below the last scale word, 0..999. */
  private group = 0;
  private last: Last | undefined;
  /** The smallest scale used so far; a later one must be smaller still. */
  private scale = Infinity;

  get started(): boolean {
    return this.last !== undefined;
  }

  get value(): number {
    return this.total + this.group;
  }

  /**
   * Whether cardinal `word` may come next; `and` when an "and" stands
   * before it, which only a part below a hundred may follow.
   */
  accepts(word: string, and = false): boolean {
    const last = this.last;
    if (last === "zero") return false;
    if (word === "zero") return last === undefined;
    if (UNITS.has(word)) {
      return (
        last === undefined || (!and && last === "tens") || afterScale(last)
      );
    }
    if (TEENS.has(word) || TENS.has(word)) {
      return last === undefined || afterScale(last);
    }
    if (and || last === undefined) return false;
    // "nineteen hundred", "twenty five hundred"; never a second hundred.
    if (word === "hundred") return !afterScale(last) && this.group < 100;
    const scale = SCALES.get(word);
    return scale !== undefined && scale < this.scale && this.group > 0;
  }

  /** Adds cardinal `word`, which {@link accepts} said may come next. */
  add(word: string): void {
    const small = UNITS.get(word) ?? TEENS.get(word) ?? TENS.get(word);
    if (small !== undefined) {
      this.group += small;
      this.last =
        word === "zero"
          ? "zero"
          : UNITS.has(word)
            ? "unit"
            : TEENS.has(word)
              ? "teen"
              : "tens";
    } else if (word === "hundred") {
      this.group *= 100;
      this.last = "hundred";
    } else {
      this.scale = SCALES.get(word)!;
      this.total += this.group * this.scale;
      this.group = 0;
      this.last = "scale";
    }
  }

  /**
   * Whether a part below a hundred, read after a hundred or a scale word,
   * belongs to this number when `next` follows it. In "two hundred and
   * three hundred" the "three" starts another number; in "two thousand
   * three hundred" it does not.
   */
  keepsPartBefore(next: string | undefined): boolean {
    if (!afterScale(this.last!)) return true;
    if (next === "hundred") return this.last === "scale";
    const scale = SCALES.get(next ?? "");
    return scale === undefined || scale < this.scale;
  }

  /** Starts the phrase at one: "a hundred", a bare "hundredth". */
  startAtOne(): void {
    this.group = 1;
    this.last = "unit";
  }
}

function afterScale(last: Last): boolean {
  return last === "hundred" || last === "scale";
}

function isCardinalWord(word: string): boolean {
  return (
    UNITS.has(word) ||
    TEENS.has(word) ||
    TENS.has(word) ||
    word === "hundred" ||
    SCALES.has(word)
  );
}

/** Digits with an optional decimal part or ordinal suffix. */
const DIGITS = /^(\d+)(?:\.(\d+)|(st|nd|rd|th))?$/;

/** Numbers this large are left as they are written. */
const MAX_SPELLED = 1e12;

/** A number phrase read from a list of words. */
interface Read {
  /** The phrase in digits. */
  text: string;
  /** The index of the first word after it. */
  next: number;
}

/**
 * Replaces every number phrase in `words` (lower case, no punctuation) by
 * its digits; ordinals by digits and suffix. Other words pass unchanged.
 */
export function numbersToDigits(words: readonly string[]): string[] {
  const spoken = words.flatMap((w) => readOut(w) ?? [w]);
  const out: string[] = [];
  let i = 0;
  while (i < spoken.length) {
    const read = readNumber(spoken, i);
    if (read === undefined) {
      out.push(spoken[i]!);
      i += 1;
    } else {
      out.push(read.text);
      i = read.next;
    }
  }
  return out;
}

/**
 * `word` read out when it is digits: "1842" -> "one thousand eight
 * hundred forty two", "21st" -> "twenty first", "3.5" -> "three point
 * five". Undefined for other words, and for digits with a leading zero
 * ("007") or too large to say.
 */
export function readOut(word: string): string[] | undefined {
  const match = DIGITS.exec(word);
  if (match === null) return undefined;
  const [, whole, decimals, suffix] = match;
  const n = Number(whole);
  if ((whole!.length > 1 && whole!.startsWith("0")) || n >= MAX_SPELLED) {
    return undefined;
  }
  const said = spell(n);
  if (suffix !== undefined) {
    const ord = ORDINAL_OF.get(said.pop()!);
    if (ord === undefined) return undefined; // "0th"
    said.push(ord);
  }
  if (decimals !== undefined) {
    said.push("point", ...[...decimals].map((d) => UNIT_WORDS[Number(d)]!));
  }
  return said;
}

const UNIT_WORDS = [...UNITS.keys()];
const TEEN_WORDS = [...TEENS.keys()];
const TENS_WORDS = new Map([...TENS].map(([word, n]) => [n, word]));
const ORDINAL_OF = new Map([...ORDINALS].map(([ord, word]) => [word, ord]));

/** `n` (0 <= n < 1e12, whole) in words, without "and". */
function spell(n: number): string[] {
  if (n === 0) return ["zero"];
  const out: string[] = [];
  let rest = n;
  for (const [word, scale] of [...SCALES].reverse()) {
    if (rest < scale) continue;
    out.push(...spellBelowThousand(Math.floor(rest / scale)), word);
    rest %= scale;
  }
  if (rest > 0) out.push(...spellBelowThousand(rest));
  return out;
}

function spellBelowThousand(n: number): string[] {
  const out: string[] = [];
  if (n >= 100) out.push(UNIT_WORDS[Math.floor(n / 100)]!, "hundred");
  const rest = n % 100;
  if (rest >= 20) {
    out.push(TENS_WORDS.get(rest - (rest % 10))!);
    if (rest % 10 > 0) out.push(UNIT_WORDS[rest % 10]!);
  } else if (rest >= 10) {
    out.push(TEEN_WORDS[rest - 10]!);
  } else if (rest > 0) {
    out.push(UNIT_WORDS[rest]!);
  }
  return out;
}

/** The number phrase starting at `start`, if one does. */
function readNumber(words: readonly string[], start: number): Read | undefined {
  const reader = new Reader();
  let i = start;
  // "a hundred", "a thousand": the article counts as one.
  const next = words[start + 1] ?? "";
  if (words[start] === "a" && (next === "hundred" || SCALES.has(next))) {
    reader.startAtOne();
    i += 1;
  }
  for (;;) {
    const and = words[i] === "and" && reader.started;
    const at = and ? i + 1 : i;
    const word = words[at];
    if (word === undefined) break;

    const cardinal = ORDINALS.get(word);
    if (cardinal !== undefined) {
      // A bare "hundredth" or "thousandth" is one of them.
      const scaleOnly = cardinal === "hundred" || SCALES.has(cardinal);
      if (!reader.started && scaleOnly) reader.startAtOne();
      if (!reader.accepts(cardinal, and)) break;
      reader.add(cardinal);
      return { text: ordinal(reader.value), next: at + 1 };
    }
    if (!isCardinalWord(word) || !reader.accepts(word, and)) break;
    const small = UNITS.has(word) || TEENS.has(word) || TENS.has(word);
    if (small && !reader.keepsPartBefore(words[partEnd(words, at)])) {
      break;
    }
    reader.add(word);
    i = at + 1;
  }
  if (!reader.started) return undefined;
  return readDecimal(words, i, reader.value);
}

/** The index after the part below a hundred at `at`: "forty two", "twelve". */
function partEnd(words: readonly string[], at: number): number {
  const unit = words[at + 1] ?? "";
  return TENS.has(words[at]!) && UNITS.has(unit) && unit !== "zero"
    ? at + 2
    : at + 1;
}

/** "point five nine" after the whole part, if it follows. */
function readDecimal(
  words: readonly string[],
  at: number,
  whole: number,
): Read {
  let i = at;
  let fraction = "";
  if (words[i] === "point") {
    i += 1;
    for (let d = UNITS.get(words[i] ?? ""); d !== undefined;) {
      fraction += String(d);
      i += 1;
      d = UNITS.get(words[i] ?? "");
    }
  }
  if (fraction === "") return { text: String(whole), next: at };
  return { text: `${whole}.${fraction}`, next: i };
}
