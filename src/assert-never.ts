/**
 * The end of a switch over a closed union: the compiler proves no case is missing (adding a
 * member to the union without handling it is a type error here), and a value that should not
 * exist at run time is a loud error rather than a silent fall-through.
 */
export function assertNever(value: never, what = "value"): never {
  throw new Error(`unexpected ${what}: ${JSON.stringify(value)}`);
}
