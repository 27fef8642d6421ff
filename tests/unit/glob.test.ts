/** Model-name globs: `*` matches anything (also nothing), the rest is literal; linear in the name's length. */
import { describe, expect, test } from "bun:test";
import { globMatcher } from "../../src/models/glob";

describe("globMatcher", () => {
  const cases: Array<[string, string, boolean]> = [
    ["grok-4", "grok-4", true],
    ["grok-4", "grok-4.3", false],
    ["grok-4*", "grok-4", true],
    ["grok-4*", "grok-4.3-fast", true],
    ["grok-4*", "xgrok-4", false],
    ["*-fast", "grok-4-fast", true],
    ["*-fast", "grok-4-fast-x", false],
    ["claude-*-sonnet-*", "claude-3-5-sonnet-20241022", true],
    ["claude-*-sonnet-*", "claude-sonnet-4", false],
    ["claude-*-sonnet-*", "claude--sonnet-", true],
    ["grok-4.20*non-reasoning*", "grok-4.20-0309-non-reasoning", true],
    ["grok-4.20*non-reasoning*", "grok-4.20-0309-reasoning", false],
    ["a*a", "a", false], // the pieces do not overlap
    ["a*a", "aa", true],
    ["ab*bc", "abc", false],
    ["ab*bc", "abbc", true],
    ["*", "", true],
    ["**", "anything", true],
    ["a**b", "ab", true],
    ["*x*y*", "yx", false],
    ["*x*y*", "..x..y..", true],
    ["grok.4*", "grok-4", false], // "." is literal
    ["grok-[4]*", "grok-[4]-fast", true], // and so are brackets
  ];
  test.each(cases)("%j against %j: %p", (glob, name, expected) => {
    expect(globMatcher(glob)(name)).toBe(expected);
  });

  test("a name of 1 MB against many-starred globs: answered (a backtracking RegExp took minutes)", () => {
    const name = "claude-" + "-sonnet-".repeat(128 * 1024);
    expect(globMatcher("claude-*-sonnet-*x")(name)).toBe(false);
    expect(globMatcher("*-sonnet-*-sonnet-*-sonnet-*y")(name)).toBe(false);
    expect(globMatcher("claude-*-sonnet-*-sonnet-")(name)).toBe(true);
  });
});
