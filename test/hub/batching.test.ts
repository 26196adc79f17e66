import { test } from "node:test";
import assert from "node:assert/strict";
import {
  holdUntil,
  type InboxSummary,
} from "../../src/hub/dispatch/batching.js";

const policy = { minHistory: 200, ratio: 4, maxHoldMs: 1000 };
const now = 10_000;
const big: InboxSummary = {
  messages: 10,
  results: 10,
  oldest: now - 5,
  pendingActivities: 500,
  historyLength: 2000,
};

test("a few results for a large history with activities still running are held", () => {
  assert.equal(holdUntil(big, now, policy), big.oldest + 1000);
});

test("results are sent once they are a quarter of the history", () => {
  assert.equal(
    holdUntil({ ...big, messages: 500, results: 500 }, now, policy),
    undefined,
  );
});

test("the last result is sent at once", () => {
  assert.equal(
    holdUntil({ ...big, pendingActivities: 0 }, now, policy),
    undefined,
  );
});

test("any message that is not an activity result is sent at once", () => {
  assert.equal(holdUntil({ ...big, messages: 11 }, now, policy), undefined);
});

test("a small history is never held", () => {
  assert.equal(
    holdUntil({ ...big, historyLength: 150 }, now, policy),
    undefined,
  );
});

test("a result is never held past the maximum hold", () => {
  assert.equal(
    holdUntil({ ...big, oldest: now - 1000 }, now, policy),
    undefined,
  );
});
