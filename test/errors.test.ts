import assert from "node:assert/strict";
import { test } from "node:test";

import {
  ConfigError,
  DurascribeError,
  exitCodeFor,
  PermanentMediaError,
  TransientError,
} from "../src/errors.js";

void test("each error class maps to its exit code", () => {
  assert.equal(exitCodeFor(new ConfigError("bad")), 2);
  assert.equal(exitCodeFor(new PermanentMediaError("gone")), 3);
  assert.equal(exitCodeFor(new TransientError("later")), 4);
});

void test("anything that is not a DurascribeError exits with 1", () => {
  assert.equal(exitCodeFor(new Error("bug")), 1);
  assert.equal(exitCodeFor("a string"), 1);
});

void test("errors say whether they are permanent and keep their code and name", () => {
  const err = new PermanentMediaError("gone", "E_FETCH_STATUS");

  assert.ok(err instanceof DurascribeError);
  assert.equal(err.permanent, true);
  assert.equal(err.code, "E_FETCH_STATUS");
  assert.equal(err.name, "PermanentMediaError");
  assert.equal(new TransientError("later").permanent, false);
});
