/** `*` globs for model names: `claude-*-sonnet-*`. Everything else is literal. */
export function globToRegExp(glob: string): RegExp {
  const body = glob
    .split("*")
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&"))
    .join(".*");
  return new RegExp(`^${body}$`);
}

export const isGlob = (pattern: string) => pattern.includes("*");
