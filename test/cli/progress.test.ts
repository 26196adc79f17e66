import assert from "node:assert/strict";
import { test } from "node:test";

import { ProgressBoard, type ProgressOutput } from "../../src/cli/progress.js";

/**
 * A terminal screen that understands what the board writes: carriage
 * return, erase line, cursor up and newline. `lines` is what a person
 * would see.
 */
const ESC = "\u001b";
const TOKENS = new RegExp(`${ESC}\\[\\d*[AK]|\\r|\\n|[^${ESC}\\r\\n]+`, "g");

class Screen implements ProgressOutput {
  readonly isTTY = true;
  readonly columns = 72;
  lines: string[] = [""];
  private row = 0;
  private col = 0;
  raw = "";

  write(text: string): boolean {
    this.raw += text;
    const tokens = text.match(TOKENS) ?? [];
    for (const token of tokens) this.apply(token);
    return true;
  }

  private apply(token: string): void {
    if (token === "\r") this.col = 0;
    else if (token === "\n") {
      this.row++;
      this.col = 0;
      if (this.row >= this.lines.length) this.lines.push("");
    } else if (token === "\x1b[2K") this.lines[this.row] = "";
    else if (token.endsWith("A")) {
      this.row = Math.max(0, this.row - Number(token.slice(2, -1)));
    } else {
      const line = this.lines[this.row]!.padEnd(this.col);
      this.lines[this.row] =
        line.slice(0, this.col) + token + line.slice(this.col + token.length);
      this.col += token.length;
    }
  }

  /** Visible lines without trailing blanks. */
  visible(): string[] {
    return this.lines.map((l) => l.trimEnd()).filter((l) => l !== "");
  }
}

class Log implements ProgressOutput {
  text = "";
  write(text: string): boolean {
    this.text += text;
    return true;
  }
}

void test("on a terminal each bar is one line redrawn in place", () => {
  const screen = new Screen();
  const board = new ProgressBoard(screen, { intervalMs: 0 });
  const a = board.add("talk-a.mp4");
  const b = board.add("talk-b.mp4");

  a.update("transcribing", 0.5);
  b.update("downloading", 0.25);
  board.close();

  const lines = screen.visible();
  assert.equal(lines.length, 2);
  assert.match(lines[0]!, /^talk-a\.mp4 \[#+-+\] {2}50% transcribing$/);
  assert.match(lines[1]!, /^talk-b\.mp4 \[#+-+\] {2}25% downloading$/);
});

void test("a finished bar stays above the live ones as a line of its own", () => {
  const screen = new Screen();
  const board = new ProgressBoard(screen, { intervalMs: 0 });
  const a = board.add("first.mp4");
  const b = board.add("second.mp4");
  b.update("decoding", 0.1);

  a.done("4.2 s");
  const c = board.add("third.mp4");
  b.fail("no audio stream in second.mp4");
  c.update("fetching", 0.9);
  board.close();

  const lines = screen.visible();
  assert.equal(lines.length, 3);
  assert.match(lines[0]!, /^first\.mp4 {2}\[#{20,}\] 100% done 4\.2 s$/);
  assert.match(lines[1]!, /^second\.mp4 \[.*\] {2}10% failed no audio stream/);
  assert.match(lines[2]!, /^third\.mp4 {2}\[#+-+\] {2}90% fetching$/);
});

void test("lines never run past the terminal's width and labels keep their end", () => {
  const screen = new Screen();
  const board = new ProgressBoard(screen, { intervalMs: 0 });
  const bar = board.add(`https://example.invalid/${"x".repeat(60)}/talk.mp4`);

  bar.update("transcribing", 0.3, "a long detail ".repeat(10));
  board.close();

  const [line] = screen.visible();
  assert.ok(line!.length < screen.columns, line);
  assert.match(line!, /^….*\/talk\.mp4 \[/);
});

void test("redraws on a terminal are throttled to the interval", () => {
  const screen = new Screen();
  const board = new ProgressBoard(screen, { intervalMs: 60_000 });
  const bar = board.add("a.mp4");

  for (let i = 1; i <= 100; i++) bar.update("transcribing", i / 100);
  const writesBefore = screen.raw.split("\x1b[2K").length - 1;
  board.close();

  // At most the first draw before close: not one per update.
  assert.ok(writesBefore <= 1, `${writesBefore} redraws`);
  assert.match(screen.visible()[0]!, /100% transcribing/);
});

void test("off a terminal each change of phase is one plain line", () => {
  const log = new Log();
  const board = new ProgressBoard(log);
  const bar = board.add("talk.mp4");

  bar.update("fetching", 0.1);
  bar.update("fetching", 0.9);
  bar.update("transcribing", 0.2);
  bar.update("transcribing", 0.8);
  bar.done("3.1 s");
  bar.update("transcribing", 0.9);
  board.close();

  assert.equal(
    log.text,
    "talk.mp4: fetching\ntalk.mp4: transcribing\ntalk.mp4: done 3.1 s\n",
  );
  assert.ok(!log.text.includes(ESC));
});

void test("a bar without a known fraction shows no percentage", () => {
  const screen = new Screen();
  const board = new ProgressBoard(screen, { intervalMs: 0 });
  board.add("live-stream").update("downloading");
  board.close();

  assert.match(screen.visible()[0]!, /^live-stream \[-+\] {6}downloading$/);
});
