/**
 * Word error rate against pairs whose edits were counted by hand.
 */
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  errorCount,
  errorRate,
  sumErrors,
  textErrors,
  wordErrors,
} from "./wer.js";

const w = (text: string): string[] => (text === "" ? [] : text.split(" "));

test("identical texts have no errors", () => {
  const e = wordErrors(
    w("the cat sat on the mat"),
    w("the cat sat on the mat"),
  );
  assert.deepEqual(e, {
    words: 6,
    substitutions: 0,
    deletions: 0,
    insertions: 0,
  });
  assert.equal(errorRate(e), 0);
});

test("a missing word is one deletion", () => {
  const e = wordErrors(w("the cat sat on the mat"), w("the cat sat on mat"));
  assert.deepEqual(e, {
    words: 6,
    substitutions: 0,
    deletions: 1,
    insertions: 0,
  });
  assert.equal(errorRate(e), 1 / 6);
});

test("a wrong word is one substitution", () => {
  const e = wordErrors(w("a b c d"), w("a x c d"));
  assert.deepEqual(e, {
    words: 4,
    substitutions: 1,
    deletions: 0,
    insertions: 0,
  });
  assert.equal(errorRate(e), 0.25);
});

test("an extra word is one insertion", () => {
  const e = wordErrors(w("a b c"), w("a b b c"));
  assert.deepEqual(e, {
    words: 3,
    substitutions: 0,
    deletions: 0,
    insertions: 1,
  });
});

test("edits of every kind add up", () => {
  // quick -> quack and jumps -> jumped are substitutions; "over" is extra.
  const e = wordErrors(
    w("the quick brown fox jumps"),
    w("the quack brown fox jumped over"),
  );
  assert.deepEqual(e, {
    words: 5,
    substitutions: 2,
    deletions: 0,
    insertions: 1,
  });
  assert.equal(errorRate(e), 0.6);
});

test("a dropped word in the middle shifts nothing after it", () => {
  // Aligned, not compared position by position: one deletion, not five.
  const e = wordErrors(
    w("one two three four five six"),
    w("one three four five six"),
  );
  assert.equal(errorCount(e), 1);
  assert.equal(e.deletions, 1);
});

test("the rate can exceed one when more is heard than said", () => {
  const e = wordErrors(w("a"), w("b c d"));
  assert.equal(errorCount(e), 3);
  assert.equal(errorRate(e), 3);
});

test("nothing heard of a text is a rate of one", () => {
  const e = wordErrors(w("one two"), []);
  assert.deepEqual(e, {
    words: 2,
    substitutions: 0,
    deletions: 2,
    insertions: 0,
  });
  assert.equal(errorRate(e), 1);
});

test("an empty reference gives zero, or infinity when words were heard", () => {
  assert.equal(errorRate(wordErrors([], [])), 0);
  assert.equal(errorRate(wordErrors([], w("ghost"))), Infinity);
});

test("summed counts weigh each text by its words", () => {
  const sum = sumErrors([
    wordErrors(w("a b c d"), w("a x c d")),
    wordErrors(w("e f g h i j"), w("e f g h i j")),
  ]);
  assert.deepEqual(sum, {
    words: 10,
    substitutions: 1,
    deletions: 0,
    insertions: 0,
  });
  // A mean of the two rates would be 12.5%.
  assert.equal(errorRate(sum), 0.1);
});

test("texts are compared after normalisation", () => {
  const e = textErrors(
    "Twenty-five people didn't come on the third day.",
    "25 people did not come on the 3rd day",
  );
  assert.equal(errorCount(e), 0);
  assert.equal(e.words, 9);
  const off = textErrors("It took twenty-five days.", "It took 24 days.");
  assert.deepEqual(off, {
    words: 4,
    substitutions: 1,
    deletions: 0,
    insertions: 0,
  });
});
