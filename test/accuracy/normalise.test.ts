/**
 * The normaliser the accuracy tests compare with: each test gives a text
 * and the words it must become, worked out by hand.
 */
import assert from "node:assert/strict";
import { test } from "node:test";

import { normaliseText, normaliseWords } from "./normalise.js";
import { ordinal } from "./numbers.js";

const same = (a: string, b: string): void =>
  assert.equal(normaliseText(a), normaliseText(b), `"${a}" vs "${b}"`);

test("case and punctuation are dropped", () => {
  assert.deepEqual(normaliseWords('"Hello, World!" she said; then: quiet.'), [
    "hello",
    "world",
    "she",
    "said",
    "then",
    "quiet",
  ]);
});

test("an empty or punctuation-only text has no words", () => {
  assert.deepEqual(normaliseWords(""), []);
  assert.deepEqual(normaliseWords(" ... -- !? "), []);
});

test("spelled-out cardinals up to 9999 become digits", () => {
  const cases: [string, string][] = [
    ["zero", "0"],
    ["seven", "7"],
    ["thirteen", "13"],
    ["forty", "40"],
    ["twenty five", "25"],
    ["twenty-five", "25"],
    ["one hundred", "100"],
    ["a hundred", "100"],
    ["one hundred and twelve", "112"],
    ["three hundred five", "305"],
    ["nineteen hundred", "1900"],
    ["twenty five hundred", "2500"],
    ["a thousand", "1000"],
    ["two thousand and five", "2005"],
    ["three thousand four hundred and sixty-one", "3461"],
    ["nine thousand nine hundred ninety nine", "9999"],
  ];
  for (const [words, digits] of cases) {
    assert.equal(normaliseText(words), digits, words);
  }
});

test("larger numbers combine their scales from the largest down", () => {
  assert.equal(normaliseText("twenty-five thousand"), "25000");
  assert.equal(normaliseText("one million two hundred thousand"), "1200000");
  assert.equal(normaliseText("ninety three million miles"), "93000000 miles");
});

test("digits lose their thousands separators and keep decimals", () => {
  assert.equal(normaliseText("about 3,500 people."), "about 3500 people");
  assert.equal(normaliseText("1,200,000"), "1200000");
  assert.equal(normaliseText("in 1900."), "in 1900");
  assert.equal(normaliseText("3.5 miles"), "3.5 miles");
  assert.equal(normaliseText("one, two"), "1 2");
});

test("digits and number words for the same number match", () => {
  same("twenty-five thousand people", "25,000 people");
  same("one hundred and twelve steps", "112 steps");
  same("two million", "2 million");
  same("nineteen hundred", "19 hundred");
  same("three point five", "3.5");
  same("twenty five percent", "25%");
  same("ten per cent", "10 percent");
  same("seven fifteen", "7:15");
  same("one hundred and twelve", "100 and 12");
  same("two hundred and eighty", "200 and 80");
});

test("digits are read out, so numbers side by side join as spoken", () => {
  assert.equal(normaliseText("20 5"), "25");
  assert.equal(normaliseText("100 12"), "112");
  assert.equal(normaliseText("1 2 3"), "1 2 3");
  assert.equal(normaliseText("7 45"), "7 45");
});

test("a comma or full stop ends a number", () => {
  assert.equal(normaliseText("100, 200 and 300"), "100 200 and 300");
  same("one hundred, two hundred", "100, 200");
  assert.equal(normaliseText("twenty. Five"), "20 5");
  assert.equal(normaliseText("0.5, 1.5"), "0.5 1.5");
});

test("digits with a leading zero are left as written", () => {
  assert.equal(normaliseText("agent 007"), "agent 007");
  assert.equal(normaliseText("0th"), "0th");
});

test("ordinals in words and in digits become one form", () => {
  const cases: [string, string][] = [
    ["first", "1st"],
    ["second", "2nd"],
    ["third", "3rd"],
    ["fourth", "4th"],
    ["eleventh", "11th"],
    ["twelfth", "12th"],
    ["thirteenth", "13th"],
    ["twentieth", "20th"],
    ["twenty-first", "21st"],
    ["sixty first", "61st"],
    ["seventy eighth", "78th"],
    ["hundredth", "100th"],
    ["one hundred and first", "101st"],
    ["two thousandth", "2000th"],
  ];
  for (const [words, digits] of cases) {
    assert.equal(normaliseText(words), digits, words);
    assert.equal(normaliseText(digits.toUpperCase()), digits, digits);
  }
  assert.equal(normaliseText("22th"), "22nd");
});

test("ordinal suffixes follow English rules", () => {
  const got = [1, 2, 3, 4, 11, 12, 13, 21, 22, 23, 101, 111, 112].map(ordinal);
  assert.deepEqual(got, [
    "1st",
    "2nd",
    "3rd",
    "4th",
    "11th",
    "12th",
    "13th",
    "21st",
    "22nd",
    "23rd",
    "101st",
    "111th",
    "112th",
  ]);
});

test("numbers that only stand side by side stay apart", () => {
  assert.equal(normaliseText("one two three"), "1 2 3");
  assert.equal(normaliseText("five twenty"), "5 20");
  assert.equal(normaliseText("twenty twenty"), "20 20");
  assert.equal(normaliseText("zero one"), "0 1");
  assert.equal(normaliseText("fifteen sixteen"), "15 16");
  assert.equal(normaliseText("one hundred five hundred"), "100 500");
});

test("a part that starts another number is not joined to the one before", () => {
  assert.equal(normaliseText("two hundred and three hundred"), "200 and 300");
  assert.equal(normaliseText("200 and 300"), "200 and 300");
  assert.equal(normaliseText("two thousand three thousand"), "2000 3000");
  assert.equal(normaliseText("two thousand three hundred"), "2300");
  assert.equal(normaliseText("two hundred three thousand"), "203000");
  assert.equal(normaliseText("one hundred forty two hundred"), "100 4200");
});

test("an and that joins no number parts stays a word", () => {
  assert.equal(normaliseText("two and three"), "2 and 3");
  assert.equal(normaliseText("a hundred and fish"), "100 and fish");
  assert.equal(normaliseText("twenty and five"), "20 and 5");
});

test("point is a word unless digits follow it", () => {
  assert.equal(normaliseText("at one point the"), "at 1 point the");
  assert.equal(normaliseText("the point"), "the point");
});

test("words that only look like numbers stay words", () => {
  assert.equal(normaliseText("a dozen tens"), "a dozen tens");
  assert.equal(normaliseText("thousands of people"), "thousands of people");
  assert.equal(normaliseText("the constructor"), "the constructor");
  assert.equal(normaliseText("a cat"), "a cat");
});

test("accents are dropped", () => {
  same("a caf\u00e9 na\u00efve", "a cafe naive");
});

test("hyphenated words split into their parts", () => {
  assert.deepEqual(normaliseWords("a well-known mother-in-law"), [
    "a",
    "well",
    "known",
    "mother",
    "in",
    "law",
  ]);
  same("well-known", "well known");
  same("a long—winding road", "a long winding road");
});

test("contractions and their long forms match", () => {
  same("don't", "do not");
  same("Don\u2019t", "do not");
  same("can't", "can not");
  same("cannot", "can not");
  same("won't", "will not");
  same("they're", "they are");
  same("we'll", "we will");
  same("I've", "I have");
  same("I'm", "I am");
  assert.equal(normaliseText("it's Ruth's"), "its ruths");
});

test("whisper's bracketed non-speech markers are not words", () => {
  assert.deepEqual(normaliseWords("[BLANK_AUDIO]"), []);
  assert.deepEqual(normaliseWords(" (upbeat music) Hello [MUSIC]"), ["hello"]);
});
