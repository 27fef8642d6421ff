/**
 * Anthropic-defined client tools as functions (the schema and description of each version,
 * exactly as the reference notes give them), the 400s for what cannot be served, the
 * normalisation of the model's calls.
 */
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  clientToolDef,
  clientToolKinds,
  hasComputerTool,
  normaliseCall,
  normaliseToolInput,
  toolInstructions,
  withToolInstructions,
} from "../../src/anthropic/client-tools";
import type { Tool } from "../../src/anthropic/schema";
import { functionDefs, planTool, REFUSED_TOOL_TYPES, toolsProblem } from "../../src/anthropic/tools";

const REF = JSON.parse(readFileSync(join(import.meta.dir, "..", "fixtures", "anthropic-defined-tools", "reference.json"), "utf8"));
const COMPUTER_USE_OPENING = "You have access to a set of functions you can use to answer the user's question. This includes access to a sandboxed computing environment.";

function def(tool: Record<string, unknown>) {
  const r = clientToolDef(tool as Tool, "tools[0]");
  if ("problem" in r) throw new Error(r.problem);
  return r;
}
function problem(tool: Record<string, unknown>): string {
  const r = clientToolDef(tool as Tool, "tools[3]");
  return "problem" in r ? r.problem : "no problem";
}
/** Same JSON, same key order: what the upstream receives byte for byte. */
const sameJson = (a: unknown, b: unknown) => expect(JSON.stringify(a)).toBe(JSON.stringify(b));

describe("each version as the function Claude knows", () => {
  test("bash, both versions: Anthropic's schema and description, verbatim, under the name bash", () => {
    for (const type of ["bash_20241022", "bash_20250124"]) {
      const { def: fn, kind } = def({ type, name: "bash" });
      expect(kind).toBe("bash");
      expect(fn.name).toBe("bash");
      sameJson(fn.parameters, REF.schemas.bash);
      expect(fn.description).toBe(REF.descriptions.bash);
    }
  });

  test("text editor 2024-10 and 2025-01: schema A (with undo_edit, insert in new_str), named str_replace_editor", () => {
    for (const type of ["text_editor_20241022", "text_editor_20250124"]) {
      const { def: fn, kind } = def({ type, name: "str_replace_editor" });
      expect(kind).toBe("text_editor_a");
      sameJson(fn.parameters, REF.schemas.text_editor_a);
      expect(fn.description).toBe(REF.descriptions.text_editor);
    }
  });

  test("text editor 2025-04 and 2025-07: schema B (no undo_edit, insert_text), named str_replace_based_edit_tool; description without the undo_edit line", () => {
    const withoutUndo = (REF.descriptions.text_editor as string)
      .split("\n")
      .filter((l) => !l.includes("undo_edit"))
      .join("\n");
    for (const type of ["text_editor_20250429", "text_editor_20250728"]) {
      const { def: fn, kind } = def({ type, name: "str_replace_based_edit_tool", max_characters: 1000 });
      expect(kind).toBe("text_editor_b");
      sameJson(fn.parameters, REF.schemas.text_editor_b);
      expect(fn.description).toBe(withoutUndo);
    }
  });

  test("memory: the flat command schema, named memory", () => {
    const { def: fn, kind } = def({ type: "memory_20250818", name: "memory" });
    expect(kind).toBe("memory");
    sameJson(fn.parameters, REF.schemas.memory);
    expect(fn.description).toContain("/memories");
  });

  test("computer: the schema of each version; 2025-11's zoom only with enable_zoom: true", () => {
    const computer = (type: string, extra: Record<string, unknown> = {}) => def({ type, name: "computer", display_width_px: 1024, display_height_px: 768, ...extra }).def;
    sameJson(computer("computer_20241022").parameters, REF.schemas.computer_20241022);
    sameJson(computer("computer_20250124").parameters, REF.schemas.computer_20250124);
    sameJson(computer("computer_20250124", { enable_zoom: true }).parameters, REF.schemas.computer_20250124);
    sameJson(computer("computer_20251124").parameters, REF.schemas.computer_20250124);
    sameJson(computer("computer_20251124", { enable_zoom: false }).parameters, REF.schemas.computer_20250124);
    sameJson(computer("computer_20251124", { enable_zoom: true }).parameters, REF.schemas.computer_20251124_zoom);
  });

  test("computer: the description, templated with the display size and number (no number line without one)", () => {
    const template = REF.descriptions.computer_template as string;
    const filled = (n: string) =>
      template.replace("{{ display_width_px }}", "1280").replace("{{ display_height_px }}", "800").replace("{{ display_number }}", n);
    const withNumber = def({ type: "computer_20250124", name: "computer", display_width_px: 1280, display_height_px: 800, display_number: 1 }).def;
    expect(withNumber.description).toBe(filled("1"));
    const without = def({ type: "computer_20250124", name: "computer", display_width_px: 1280, display_height_px: 800, display_number: null }).def;
    expect(without.description).toBe(
      filled("")
        .split("\n")
        .filter((l) => !l.startsWith("* The display number"))
        .join("\n"),
    );
    expect(without.description).toContain("The screen's resolution is 1280x800.");
  });

  test("the schemas cannot be changed by anyone holding them", () => {
    const fn = def({ type: "bash_20250124", name: "bash" }).def;
    expect(() => {
      (fn.parameters as any).properties.command.type = "number";
    }).toThrow();
    sameJson(def({ type: "bash_20250124", name: "bash" }).def.parameters, REF.schemas.bash);
  });
});

describe("what is refused, by name and place", () => {
  test("a name other than the type's fixed one", () => {
    expect(problem({ type: "bash_20250124", name: "shell" })).toBe('tools[3].name: a bash_20250124 tool must be named "bash" (got "shell")');
    expect(problem({ type: "text_editor_20250728", name: "str_replace_editor" })).toContain('must be named "str_replace_based_edit_tool"');
  });

  test("an unknown dated version of a known family names the supported versions", () => {
    expect(problem({ type: "bash_20270101", name: "bash" })).toBe(
      'tools[3].type: "bash_20270101" is not a version of the bash tool this gateway knows; supported: bash_20241022, bash_20250124',
    );
    expect(problem({ type: "computer_20990101", name: "computer" })).toContain("supported: computer_20241022, computer_20250124, computer_20251124");
    expect(problem({ type: "text_editor_20990101", name: "x" })).toContain("text_editor_20241022, text_editor_20250124, text_editor_20250429, text_editor_20250728");
  });

  test("a computer tool needs its display size", () => {
    expect(problem({ type: "computer_20250124", name: "computer", display_height_px: 768 })).toBe("tools[3].display_width_px: Field required");
    expect(problem({ type: "computer_20250124", name: "computer", display_width_px: 0, display_height_px: 768 })).toContain("display_width_px: expected a positive integer");
    expect(problem({ type: "computer_20250124", name: "computer", display_width_px: 10, display_height_px: 768, display_number: "0" })).toContain("display_number");
  });

  test("every refused type and any unknown type: a 400 naming the type, the place and what is supported", () => {
    const refused = [
      "web_fetch_20250910",
      "tool_search_tool_regex_20251119",
      "tool_search_tool_bm25",
      "advisor_20260301",
      "computer_toolset_20260801",
      "browser_toolset_20260801",
    ];
    for (const type of refused) {
      expect(REFUSED_TOOL_TYPES.some((r) => r.type.test(type))).toBe(true);
      const p = planTool({ type, name: "x" } as Tool, 2);
      expect("problem" in p && p.problem).toMatch(
        new RegExp(`^tools\\[2\\]: tool type "${type}" is not supported: .+; supported: custom tools .*bash_20250124.*web_search.*code_execution_20250522.*mcp_toolset`),
      );
    }
    const unknown = planTool({ type: "teleport_20990101", name: "x" } as Tool, 0);
    expect("problem" in unknown && unknown.problem).toMatch(/^tools\[0\]: tool type "teleport_20990101" is not supported; supported: /);
    expect(toolsProblem([{ name: "ok", input_schema: {} }, { type: "__proto__", name: "x" } as Tool])).toContain('tools[1]: tool type "__proto__"');
    expect(() => functionDefs([{ type: "web_fetch_20250910", name: "web_fetch" } as Tool])).toThrow("web_fetch_20250910");
  });

  test("custom tools, web search and the client tools are all served; functions sorted by name", () => {
    const tools = [
      { type: "text_editor_20250728", name: "str_replace_based_edit_tool" },
      { name: "zeta", input_schema: { type: "object" } },
      { type: "web_search_20250305", name: "web_search" },
      { type: "custom", name: "alpha", input_schema: { type: "object" } },
      { type: null, name: "beta" },
      { type: "bash_20250124", name: "bash" },
    ] as Tool[];
    expect(toolsProblem(tools)).toBeUndefined();
    expect(functionDefs(tools).map((f) => f.name)).toEqual(["alpha", "bash", "beta", "str_replace_based_edit_tool", "zeta"]);
  });
});

describe("the model's calls, as the client's version reads them", () => {
  test("text editor insert: insert_text for schema B and memory, new_str for schema A; nothing else touched", () => {
    const grokB = { command: "insert", path: "/a.py", insert_line: 2, new_str: "x = 1\n" };
    expect(normaliseToolInput("text_editor_b", grokB)).toEqual({ command: "insert", path: "/a.py", insert_line: 2, insert_text: "x = 1\n" });
    expect(Object.keys(normaliseToolInput("text_editor_b", grokB))).toEqual(["command", "path", "insert_line", "insert_text"]);
    expect(normaliseToolInput("memory", { command: "insert", path: "/memories/a", insert_line: 0, new_str: "n" })).toEqual({ command: "insert", path: "/memories/a", insert_line: 0, insert_text: "n" });
    expect(normaliseToolInput("text_editor_a", { command: "insert", path: "/a", insert_line: 1, insert_text: "t" })).toEqual({ command: "insert", path: "/a", insert_line: 1, new_str: "t" });
    // Already right, or another command: the very same object.
    const right = { command: "insert", path: "/a", insert_line: 1, insert_text: "t" };
    expect(normaliseToolInput("text_editor_b", right)).toBe(right);
    const replace = { command: "str_replace", path: "/a", old_str: "a", new_str: "b" };
    expect(normaliseToolInput("text_editor_b", replace)).toBe(replace);
    expect(normaliseToolInput("memory", replace)).toBe(replace);
  });

  test("computer coordinates: integers, from numbers, numeric strings and \"[x, y]\" text; anything else left as it was", () => {
    expect(normaliseToolInput("computer", { action: "left_click", coordinate: [100.6, 200.2] })).toEqual({ action: "left_click", coordinate: [101, 200] });
    expect(normaliseToolInput("computer", { action: "mouse_move", coordinate: "[640, 400]" })).toEqual({ action: "mouse_move", coordinate: [640, 400] });
    expect(normaliseToolInput("computer", { action: "mouse_move", coordinate: "(12,34)" })).toEqual({ action: "mouse_move", coordinate: [12, 34] });
    expect(normaliseToolInput("computer", { action: "mouse_move", coordinate: ["5", " 6.4 "] })).toEqual({ action: "mouse_move", coordinate: [5, 6] });
    expect(normaliseToolInput("computer", { action: "left_click_drag", start_coordinate: "[1, 2]", coordinate: [3, 4] })).toEqual({
      action: "left_click_drag",
      start_coordinate: [1, 2],
      coordinate: [3, 4],
    });
    expect(normaliseToolInput("computer", { action: "zoom", region: "[0, 0, 512.5, 384]" })).toEqual({ action: "zoom", region: [0, 0, 513, 384] });
    for (const odd of ["here", "[1, 2, 3]", [1], ["a", 2], { x: 1, y: 2 }]) {
      expect(normaliseToolInput("computer", { action: "mouse_move", coordinate: odd }).coordinate).toEqual(odd);
    }
    const fine = { action: "left_click", coordinate: [1, 2] };
    expect(normaliseToolInput("computer", fine)).toBe(fine);
  });

  test("only the request's own client tools are normalised, by name", () => {
    const kinds = clientToolKinds([
      { type: "text_editor_20250728", name: "str_replace_based_edit_tool" },
      { name: "editor", input_schema: {} },
    ] as Tool[]);
    expect([...(kinds ?? [])]).toEqual([["str_replace_based_edit_tool", "text_editor_b"]]);
    const call = { command: "insert", path: "/a", insert_line: 1, new_str: "t" };
    expect(normaliseCall(kinds, "str_replace_based_edit_tool", call)).toEqual({ command: "insert", path: "/a", insert_line: 1, insert_text: "t" });
    expect(normaliseCall(kinds, "editor", call)).toBe(call);
    expect(normaliseCall(undefined, "str_replace_based_edit_tool", call)).toBe(call);
    expect(clientToolKinds([{ name: "mine", input_schema: {} }] as Tool[])).toBeUndefined();
  });
});

describe("what Anthropic adds to the system prompt", () => {
  test("the computer-use opening for bash, text editor and computer; the memory protocol for memory; the caller's system after", () => {
    expect(toolInstructions([{ name: "mine", input_schema: {} }] as Tool[])).toEqual([]);
    expect(toolInstructions([{ type: "bash_20250124", name: "bash" }] as Tool[])[0]).toStartWith(COMPUTER_USE_OPENING);
    expect(toolInstructions([{ type: "memory_20250818", name: "memory" }] as Tool[])).toEqual([REF.memory_instruction]);
    const both = withToolInstructions("Be brief.", [
      { type: "memory_20250818", name: "memory" },
      { type: "computer_20250124", name: "computer", display_width_px: 1, display_height_px: 1 },
    ] as Tool[]);
    expect(both).toStartWith(COMPUTER_USE_OPENING);
    expect(both).toEndWith(`${REF.memory_instruction}\n\nBe brief.`);
    expect(withToolInstructions("Be brief.", undefined)).toBe("Be brief.");
    expect(withToolInstructions("", [{ type: "memory_20250818", name: "memory" }] as Tool[])).toBe(REF.memory_instruction);
  });

  test("a computer tool (of any version) asks for a model that sees", () => {
    expect(hasComputerTool([{ type: "computer_20251124", name: "computer" }] as Tool[])).toBe(true);
    expect(hasComputerTool([{ type: "computer_toolset_20260801", name: "x" }, { type: "bash_20250124", name: "bash" }] as Tool[])).toBe(false);
    expect(hasComputerTool(undefined)).toBe(false);
  });
});
