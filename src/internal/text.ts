/**
 * Text that came from the program (task names, queue names, error messages, rejection values)
 * made safe to show: converted to a string without throwing, and with control characters
 * written as escapes so a name cannot retitle the terminal, clear it or move its cursor.
 */

/** C0 controls, DEL and C1 controls (U+0080–U+009F: a terminal may read U+009B as CSI). */
function isControl(code: number): boolean {
  return code < 0x20 || (code >= 0x7f && code <= 0x9f);
}

const SHORT: Readonly<Record<number, string>> = { 10: "\\n", 13: "\\r", 9: "\\t", 8: "\\b" };

/**
 * `text` with every control character written as an escape (`\x1b`, `\x07`, `\r`, `\b`, `\n`),
 * so printing it moves no cursor and sends the terminal no command. With `keepNewlines`, line
 * breaks stay (for multi-line text such as a stack trace). Escape before truncating: a cut made
 * afterwards cannot split a control sequence. Returns `text` itself when there is nothing to escape.
 *
 * @example
 * escapeControl("\x1b]0;pwned\x07 worker"); // "\\x1b]0;pwned\\x07 worker"
 */
export function escapeControl(text: string, keepNewlines = false): string {
  let out: string | undefined;
  let from = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (!isControl(code) || (keepNewlines && code === 10)) continue;
    out = (out ?? "") + text.slice(from, i) + (SHORT[code] ?? `\\x${code.toString(16).padStart(2, "0")}`);
    from = i + 1;
  }
  return out === undefined ? text : out + text.slice(from);
}

/**
 * `String(value)`, except that it never throws: a value `String` cannot convert (an object with
 * no prototype, a `toString` that throws, a Symbol inside a template) is described instead, as
 * `[object Object]`, its error name and message, or "an unprintable value".
 *
 * @example
 * safeString(Object.create(null)); // "[object Object]"
 */
export function safeString(value: unknown): string {
  try {
    return String(value);
  } catch {
    // Fall through: describe it without calling anything of the value's own.
  }
  try {
    if (typeof value === "object" && value !== null) {
      const { name, message } = value as { name?: unknown; message?: unknown };
      if (typeof message === "string") return typeof name === "string" ? `${name}: ${message}` : message;
    }
    return Object.prototype.toString.call(value);
  } catch {
    return "an unprintable value";
  }
}
