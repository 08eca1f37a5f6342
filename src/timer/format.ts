/**
 * Python's `str.format` and its format-spec mini-language, so codetiming's templates
 * (`"Elapsed time: {:0.4f} seconds"`, `"{name}: {milliseconds:.0f} ms"`) print exactly what
 * Python prints: the same rounding (round-half-even on the exact binary value), the same
 * `repr` of floats, padding, signs, grouping and exponents.
 *
 * How JavaScript values map onto Python's:
 * - a `number` is a Python `float` (`format(17, "")` is `"17.0"`, as `str(17.0)`); the integer
 *   codes `b c d o x X` accept a number only when it is an integer, and format it as an `int`;
 * - a `bigint` is an `int`; a `boolean` is a `bool` (`"True"`, or `1` under a numeric spec);
 * - a `string` is a `str`; `null` and `undefined` are `None`;
 * - any other object is formatted as `String(value)` under the string rules.
 *
 * Errors: what Python raises as `ValueError`, `KeyError` or `IndexError` is a `RangeError`
 * here; Python's `TypeError` is a `TypeError`. Messages are Python's, with a hint.
 */

/** A parsed format spec: `[[fill]align][sign]["z"]["#"]["0"][width][grouping]["." precision][type]`. */
interface Spec {
  fill: string;
  /** `<`, `>`, `^`, `=`, or `""` for the default of the value's kind. */
  align: string;
  /** `+`, `-`, space, or `""`. */
  sign: string;
  /** `z`: negative zero prints as zero. */
  noNegZero: boolean;
  /** `#`: alternate form (keep the decimal point, trailing zeros, `0x` prefixes). */
  alternate: boolean;
  /** -1 when absent. */
  width: number;
  /** `,`, `_`, or `""`; `_4` for underscores every four digits (b, o, x, X). */
  grouping: string;
  /** -1 when absent. */
  precision: number;
  /** the presentation type, `""` when absent. */
  type: string;
}

function isAlign(c: string | undefined): boolean {
  return c === "<" || c === ">" || c === "^" || c === "=";
}

function isDigit(c: string | undefined): boolean {
  return c !== undefined && c >= "0" && c <= "9";
}

function readInteger(spec: string, pos: number): [value: number, end: number] {
  let end = pos;
  while (isDigit(spec[end])) end++;
  if (end === pos) return [-1, pos];
  const value = Number(spec.slice(pos, end));
  if (!Number.isSafeInteger(value)) throw new RangeError("Too many decimal digits in format string");
  return [value, end];
}

/**
 * Parses `spec` the way CPython's `parse_internal_render_format_spec` does. `defaultType` is the
 * type of the value's kind when the spec has none (`s` for strings, `d` for ints, `""` for floats),
 * `kind` names the value in messages.
 */
function parseSpec(spec: string, defaultType: string, kind: string): Spec {
  // Strings align left by default; there the "0" flag sets the fill only (Python 3.10+).
  const numeric = defaultType !== "s";
  const result: Spec = {
    fill: " ",
    align: "",
    sign: "",
    noNegZero: false,
    alternate: false,
    width: -1,
    grouping: "",
    precision: -1,
    type: defaultType,
  };
  const end = spec.length;
  let pos = 0;
  let fillSpecified = false;
  // The fill is one code point; astral characters take two UTF-16 units.
  const first = spec.codePointAt(0);
  const firstLength = first !== undefined && first > 0xffff ? 2 : 1;
  if (end - pos >= firstLength + 1 && isAlign(spec[firstLength])) {
    result.fill = spec.slice(0, firstLength);
    result.align = spec[firstLength] as string;
    fillSpecified = true;
    pos = firstLength + 1;
  } else if (end - pos >= 1 && isAlign(spec[0])) {
    result.align = spec[0] as string;
    pos = 1;
  }
  const signChar = spec[pos];
  if (signChar === "+" || signChar === "-" || signChar === " ") {
    result.sign = signChar;
    pos++;
  }
  if (spec[pos] === "z") {
    result.noNegZero = true;
    pos++;
  }
  if (spec[pos] === "#") {
    result.alternate = true;
    pos++;
  }
  if (!fillSpecified && spec[pos] === "0") {
    result.fill = "0";
    if (result.align === "" && numeric) result.align = "=";
    pos++;
  }
  const [width, afterWidth] = readInteger(spec, pos);
  result.width = width;
  pos = afterWidth;
  if (spec[pos] === ",") {
    result.grouping = ",";
    pos++;
  }
  if (spec[pos] === "_") {
    if (result.grouping !== "") throw new RangeError("Cannot specify both ',' and '_'.");
    result.grouping = "_";
    pos++;
  }
  if (spec[pos] === "," && result.grouping === "_") throw new RangeError("Cannot specify both ',' and '_'.");
  if (spec[pos] === ".") {
    const [precision, afterPrecision] = readInteger(spec, pos + 1);
    if (precision < 0) throw new RangeError("Format specifier missing precision");
    result.precision = precision;
    pos = afterPrecision;
  }
  if (end - pos > 1) {
    throw new RangeError(`Invalid format specifier '${spec}' for ${kind}`);
  }
  if (end - pos === 1) result.type = spec[pos] as string;
  if (result.grouping !== "") {
    switch (result.type) {
      case "d":
      case "e":
      case "f":
      case "g":
      case "E":
      case "G":
      case "%":
      case "F":
      case "":
        break;
      case "b":
      case "o":
      case "x":
      case "X":
        if (result.grouping === "_") {
          result.grouping = "_4";
          break;
        }
        throw new RangeError(`Cannot specify '${result.grouping}' with '${result.type}'.`);
      default:
        throw new RangeError(`Cannot specify '${result.grouping}' with '${result.type}'.`);
    }
  }
  return result;
}

function unknownCode(type: string, kind: string, hint = ""): RangeError {
  return new RangeError(`Unknown format code '${type}' for ${kind}${hint}`);
}

function repeat(c: string, n: number): string {
  return n > 0 ? c.repeat(n) : "";
}

/**
 * Lays out a number: `<lpad><sign><prefix><spad><grouped digits><decimal><remainder><rpad>`
 * (CPython's `calc_number_widths` + `fill_number`).
 */
function layoutNumber(
  spec: Spec,
  negative: boolean,
  prefix: string,
  digits: string,
  hasDecimal: boolean,
  remainder: string,
): string {
  let sign = "";
  if (spec.sign === "+") sign = negative ? "-" : "+";
  else if (spec.sign === " ") sign = negative ? "-" : " ";
  else if (negative) sign = "-";
  const align = spec.align === "" ? ">" : spec.align;
  const decimal = hasDecimal ? "." : "";
  const nonDigits = sign.length + prefix.length + decimal.length + remainder.length;
  const minWidth = spec.fill === "0" && align === "=" ? spec.width - nonDigits : 0;
  let grouped = "";
  if (digits.length > 0) {
    const size = spec.grouping === "" ? 0 : spec.grouping === "_4" ? 4 : 3;
    const separator = spec.grouping === "" ? "" : spec.grouping === "," ? "," : "_";
    grouped = insertGrouping(digits, size, separator, minWidth);
  }
  const padding = spec.width - (nonDigits + grouped.length);
  let left = "";
  let middle = "";
  let right = "";
  if (padding > 0) {
    if (align === "<") right = repeat(spec.fill, padding);
    else if (align === "^") {
      left = repeat(spec.fill, Math.floor(padding / 2));
      right = repeat(spec.fill, padding - Math.floor(padding / 2));
    } else if (align === "=") middle = repeat(spec.fill, padding);
    else left = repeat(spec.fill, padding);
  }
  return left + sign + prefix + middle + grouped + decimal + remainder + right;
}

/**
 * CPython's `_PyUnicode_InsertThousandsGrouping`: groups `digits` from the right in groups of
 * `size` (0: no grouping), zero-padding on the left up to `minWidth` characters.
 */
function insertGrouping(digits: string, size: number, separator: string, minWidth: number): string {
  let remaining = digits.length;
  let width = Math.max(0, minWidth);
  let end = digits.length;
  const chunks: string[] = [];
  let useSeparator = false;
  let broken = false;
  if (size > 0) {
    for (;;) {
      const len = Math.min(size, Math.max(remaining, width, 1));
      const zeros = Math.max(0, len - remaining);
      const chars = Math.max(0, Math.min(remaining, len));
      chunks.push(repeat("0", zeros) + digits.slice(end - chars, end) + (useSeparator ? separator : ""));
      end -= chars;
      useSeparator = true;
      remaining -= chars;
      width -= len;
      if (remaining <= 0 && width <= 0) {
        broken = true;
        break;
      }
      width -= separator.length;
    }
  }
  if (!broken) {
    const len = Math.max(remaining, width, 1);
    const zeros = Math.max(0, len - remaining);
    const chars = Math.max(0, Math.min(remaining, len));
    chunks.push(repeat("0", zeros) + digits.slice(end - chars, end) + (useSeparator ? separator : ""));
  }
  let out = "";
  for (let i = chunks.length - 1; i >= 0; i--) out += chunks[i];
  return out;
}

// ---------------------------------------------------------------------------------------------
// Floats: exact decimal digits, rounded half-even (what David Gay's dtoa gives CPython)

const view = new DataView(new ArrayBuffer(8));

/** Digits of a positive finite `x` and the position of the decimal point (dtoa's `decpt`). */
interface Decimal {
  /** Significant digits, no leading or trailing zeros; `""` for a value rounded to zero. */
  digits: string;
  /** The value is `0.digits × 10^decpt`. */
  decpt: number;
}

/** The exact decimal expansion of a positive finite double. */
function exactDecimal(x: number): Decimal {
  view.setFloat64(0, x);
  const hi = view.getUint32(0);
  const lo = view.getUint32(4);
  const biased = (hi >>> 20) & 0x7ff;
  let mantissa = BigInt(hi & 0xfffff) * 4294967296n + BigInt(lo);
  let exponent: number;
  if (biased === 0) exponent = -1074;
  else {
    mantissa += 4503599627370496n; // the implicit leading bit, 2^52
    exponent = biased - 1075;
  }
  while (exponent < 0 && (mantissa & 1n) === 0n) {
    mantissa >>= 1n;
    exponent++;
  }
  // x = mantissa × 2^exponent = mantissa × 5^-exponent / 10^-exponent
  let s: string;
  let scale: number;
  if (exponent >= 0) {
    s = (mantissa << BigInt(exponent)).toString();
    scale = 0;
  } else {
    s = (mantissa * 5n ** BigInt(-exponent)).toString();
    scale = -exponent;
  }
  return { digits: s.replace(/0+$/, ""), decpt: s.length - scale };
}

/** The shortest digits that read back as `x` (Python's `repr`, dtoa mode 0). */
function shortestDecimal(x: number): Decimal {
  const e = x.toExponential(); // "1.2345e+2": JavaScript's shortest round-trip digits
  const at = e.indexOf("e");
  const digits = (e[0] as string) + e.slice(2, at);
  return { digits: digits.replace(/0+$/, "") || "0", decpt: Number(e.slice(at + 1)) + 1 };
}

/** Keeps the first `keep` digits of `d`, rounding half-even; `keep` may be ≤ 0. */
function roundDecimal(d: Decimal, keep: number): Decimal {
  const digits = d.digits;
  if (keep >= digits.length) return d;
  if (keep < 0) return { digits: "", decpt: d.decpt };
  const next = digits.charCodeAt(keep) - 48;
  const rest = keep + 1 < digits.length; // trailing zeros are stripped: anything left is non-zero
  const lastKept = keep > 0 ? digits.charCodeAt(keep - 1) - 48 : 0;
  const up = next > 5 || (next === 5 && (rest || (lastKept & 1) === 1));
  let kept = digits.slice(0, keep);
  let decpt = d.decpt;
  if (up) {
    let i = kept.length - 1;
    while (i >= 0 && kept[i] === "9") i--;
    if (i < 0) {
      kept = "1";
      decpt += 1;
    } else {
      kept = kept.slice(0, i) + String.fromCharCode(kept.charCodeAt(i) + 1);
    }
  }
  kept = kept.replace(/0+$/, "");
  return { digits: kept, decpt };
}

/**
 * dtoa: mode 0 (shortest), 2 (`n` significant digits) or 3 (`n` digits after the point), for a
 * positive finite or zero `x`. Zero is `"0"` with the point after it, as dtoa returns it.
 */
function dtoa(x: number, mode: 0 | 2 | 3, n: number): Decimal {
  if (x === 0) return { digits: "0", decpt: 1 };
  if (mode === 0) return shortestDecimal(x);
  const exact = exactDecimal(x);
  const keep = mode === 2 ? Math.max(n, 1) : exact.decpt + n;
  const rounded = roundDecimal(exact, keep);
  // A result rounded away to nothing (mode 3): dtoa reports no digits and decpt = -n.
  if (rounded.digits === "") return { digits: "", decpt: -n };
  return rounded;
}

/**
 * CPython's `format_float_short`: formats `|x|` (finite) with code `f`, `e`, `g` or `r` (repr),
 * returning the unsigned text.
 */
function formatFinite(
  x: number,
  code: "e" | "f" | "g" | "r",
  precision: number,
  addDot0: boolean,
  alternate: boolean,
): string {
  let mode: 0 | 2 | 3;
  let p = precision;
  if (code === "e") {
    mode = 2;
    p++;
  } else if (code === "f") mode = 3;
  else if (code === "g") {
    mode = 2;
    if (p === 0) p = 1;
  } else mode = 0;
  const { digits, decpt: point } = dtoa(x, mode, p);
  let decpt = point;
  const length = digits.length;
  let useExp = false;
  let vEnd = length;
  if (code === "e") {
    useExp = true;
    vEnd = p;
  } else if (code === "f") {
    vEnd = decpt + p;
  } else if (code === "g") {
    if (decpt <= -4 || decpt > (addDot0 ? p - 1 : p)) useExp = true;
    if (alternate) vEnd = p;
  } else if (decpt <= -4 || decpt > 16) {
    useExp = true;
  }
  let exp = 0;
  if (useExp) {
    exp = decpt - 1;
    decpt = 1;
  }
  const vStart = decpt <= 0 ? decpt - 1 : 0;
  if (!useExp && addDot0) vEnd = Math.max(vEnd, decpt + 1);
  else vEnd = Math.max(vEnd, decpt);
  let out = "";
  if (decpt <= 0) out += `${repeat("0", decpt - vStart)}.${repeat("0", -decpt)}`;
  else out += repeat("0", -vStart);
  if (decpt > 0 && decpt <= length) out += `${digits.slice(0, decpt)}.${digits.slice(decpt)}`;
  else out += digits;
  if (length < decpt) out += `${repeat("0", decpt - length)}.${repeat("0", vEnd - decpt)}`;
  else out += repeat("0", vEnd - length);
  if (out.endsWith(".") && !alternate) out = out.slice(0, -1);
  if (useExp) {
    const abs = Math.abs(exp);
    out += `e${exp < 0 ? "-" : "+"}${abs < 10 ? "0" : ""}${abs}`;
  }
  return out;
}

/** Python's `float.__format__`. */
function formatFloat(value: number, spec: Spec): string {
  let type = spec.type;
  let code: "e" | "f" | "g" | "r";
  let precision = spec.precision;
  let addDot0 = false;
  let upper = false;
  let percent = false;
  let x = value;
  switch (type) {
    case "":
      addDot0 = true;
      code = precision < 0 ? "r" : "g";
      if (precision < 0) precision = 0;
      break;
    case "n":
    case "g":
    case "G":
      code = "g";
      break;
    case "e":
    case "E":
      code = "e";
      break;
    case "f":
    case "F":
      code = "f";
      break;
    case "%":
      code = "f";
      x *= 100;
      percent = true;
      break;
    default:
      throw unknownCode(type, "a number (a Python float)");
  }
  upper = type === "E" || type === "F" || type === "G";
  if (precision < 0) precision = 6;
  type = code;
  let negative = x < 0 || Object.is(x, -0);
  let body: string;
  if (Number.isNaN(x)) {
    negative = false;
    body = "nan";
  } else if (!Number.isFinite(x)) {
    body = "inf";
  } else {
    body = formatFinite(Math.abs(x), code, precision, addDot0, spec.alternate);
    // "z": a value that rounds to zero prints without its minus sign.
    if (negative && spec.noNegZero && /^[0.]*$/.test(body.split("e")[0] as string)) negative = false;
  }
  if (upper) body = body.toUpperCase();
  if (percent) body += "%";
  // Digits before the point are grouped; the rest ("." + fraction, exponent, "%") is copied.
  let i = 0;
  while (isDigit(body[i])) i++;
  const hasDecimal = body[i] === ".";
  return layoutNumber(spec, negative, "", body.slice(0, i), hasDecimal, body.slice(hasDecimal ? i + 1 : i));
}

/** Python's `int.__format__` for the integer codes (`b c d o x X n` and none). */
function formatInt(value: bigint, spec: Spec): string {
  if (spec.precision >= 0) throw new RangeError("Precision not allowed in integer format specifier");
  if (spec.noNegZero) throw new RangeError("Negative zero coercion (z) not allowed in integer format specifier");
  const negative = value < 0n;
  const abs = negative ? -value : value;
  if (spec.type === "c") {
    if (spec.sign !== "") throw new RangeError("Sign not allowed with integer format specifier 'c'");
    if (spec.alternate) throw new RangeError("Alternate form (#) not allowed with integer format specifier 'c'");
    if (value < 0n || value > 0x10ffffn) throw new RangeError("%c arg not in range(0x110000)");
    // 'c' output counts as "remainder": never grouped or zero-filled as digits.
    return layoutNumber(spec, false, "", "", false, String.fromCodePoint(Number(value)));
  }
  let base = 10;
  let prefix = "";
  if (spec.type === "b") {
    base = 2;
    prefix = "0b";
  } else if (spec.type === "o") {
    base = 8;
    prefix = "0o";
  } else if (spec.type === "x" || spec.type === "X") {
    base = 16;
    prefix = "0x";
  }
  let digits = abs.toString(base);
  if (!spec.alternate) prefix = "";
  if (spec.type === "X") {
    digits = digits.toUpperCase();
    prefix = prefix.toUpperCase();
  }
  return layoutNumber(spec, negative, prefix, digits, false, "");
}

/** Python's `str.__format__`. */
function formatStr(value: string, spec: Spec): string {
  if (spec.type !== "s") throw unknownCode(spec.type, "a string");
  if (spec.sign === " ") throw new RangeError("Space not allowed in string format specifier");
  if (spec.sign !== "") throw new RangeError("Sign not allowed in string format specifier");
  if (spec.noNegZero) throw new RangeError("Negative zero coercion (z) not allowed in string format specifier");
  if (spec.alternate) throw new RangeError("Alternate form (#) not allowed in string format specifier");
  if (spec.align === "=") throw new RangeError("'=' alignment not allowed in string format specifier");
  const chars = Array.from(value); // code points, as Python counts them
  const text = spec.precision >= 0 && chars.length > spec.precision ? chars.slice(0, spec.precision) : chars;
  const padding = spec.width - text.length;
  const body = text.join("");
  if (padding <= 0) return body;
  const align = spec.align === "" ? "<" : spec.align;
  if (align === ">") return repeat(spec.fill, padding) + body;
  if (align === "^") {
    const left = Math.floor(padding / 2);
    return repeat(spec.fill, left) + body + repeat(spec.fill, padding - left);
  }
  return body + repeat(spec.fill, padding);
}

const INT_CODES = new Set(["b", "c", "d", "o", "x", "X"]);
const FLOAT_CODES = new Set(["e", "E", "f", "F", "g", "G", "n", "%"]);

/**
 * Python's `str(value)` for the JavaScript value (see the mapping at the top of this file).
 *
 * @example
 * pythonStr(17)    // "17.0"
 * pythonStr(1e16)  // "1e+16"
 * pythonStr(null)  // "None"
 */
export function pythonStr(value: unknown): string {
  if (typeof value === "string") return value;
  if (typeof value === "number") return formatFloat(value, parseSpec("", "", "a number"));
  if (typeof value === "boolean") return value ? "True" : "False";
  if (value === null || value === undefined) return "None";
  return String(value);
}

/**
 * Python's `repr(value)`: strings are quoted and escaped; other values as {@link pythonStr}.
 *
 * @example
 * pythonRepr("it's")  // "\"it's\""
 * pythonRepr("a\tb")  // "'a\\tb'"
 */
export function pythonRepr(value: unknown): string {
  if (typeof value !== "string") return pythonStr(value);
  const quote = value.includes("'") && !value.includes('"') ? '"' : "'";
  let out = quote;
  for (const ch of value) {
    const code = ch.codePointAt(0) as number;
    if (ch === quote || ch === "\\") out += `\\${ch}`;
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\t") out += "\\t";
    else if (code < 0x20 || code === 0x7f) out += `\\x${code.toString(16).padStart(2, "0")}`;
    else out += ch;
  }
  return out + quote;
}

/**
 * Formats one value with a format spec, like Python's built-in `format(value, spec)`:
 * `[[fill]align][sign]["z"]["#"]["0"][width][","|"_"]["." precision][type]` with the types
 * `f F e E g G % n` and none for numbers, `b c d o x X` for integers, `s` for strings.
 *
 * Numbers are Python floats (see the module notes): `formatValue(17, "")` is `"17.0"`, and
 * rounding is half-even on the exact binary value, as in Python (`formatValue(0.125, ".2f")` is
 * `"0.12"`, `formatValue(2.5, ".0f")` is `"2"`), which `Number.prototype.toFixed` does not do.
 *
 * Throws `RangeError` for a spec Python rejects with `ValueError` (an unknown code, `,` with
 * `n`, a precision on an integer code, ...) and `TypeError` for a non-empty spec on `None`.
 *
 * @example
 * formatValue(1234567.891, ",.2f")  // "1,234,567.89"
 * formatValue(0.256, ".1%")         // "25.6%"
 * formatValue(255, "#06x")          // "0x00ff"
 * formatValue("waiter", "*^10")     // "**waiter**"
 */
export function formatValue(value: unknown, spec = ""): string {
  if (typeof spec !== "string") {
    throw new TypeError(`Expected the format spec to be a string, got ${typeof spec}`);
  }
  if (spec === "") return pythonStr(value);
  if (typeof value === "number") {
    const parsed = parseSpec(spec, "", "a number");
    if (INT_CODES.has(parsed.type)) {
      if (!Number.isInteger(value)) {
        throw unknownCode(
          parsed.type,
          `a number that is not an integer (${pythonStr(value)})`,
          ": round it first, or use 'f'",
        );
      }
      return formatInt(BigInt(value), parsed);
    }
    return formatFloat(value, parsed);
  }
  if (typeof value === "bigint" || typeof value === "boolean") {
    const parsed = parseSpec(spec, "d", "an integer");
    const big = typeof value === "bigint" ? value : value ? 1n : 0n;
    if (parsed.type === "n") parsed.type = "d";
    if (INT_CODES.has(parsed.type)) return formatInt(big, parsed);
    if (FLOAT_CODES.has(parsed.type)) return formatFloat(Number(big), parsed);
    throw unknownCode(parsed.type, "an integer");
  }
  if (value === null || value === undefined) {
    throw new TypeError(
      `unsupported format string passed to NoneType.__format__: ${String(value)} takes no format spec ("${spec}")`,
    );
  }
  return formatStr(typeof value === "string" ? value : String(value), parseSpec(spec, "s", "a string"));
}

/** Auto-numbering state of one `formatTemplate` call. */
interface Numbering {
  next: number;
  manual: boolean;
}

function lookup(
  fieldName: string,
  args: readonly unknown[],
  kwargs: Readonly<Record<string, unknown>>,
  numbering: Numbering,
): unknown {
  let i = 0;
  while (i < fieldName.length && fieldName[i] !== "." && fieldName[i] !== "[") i++;
  const first = fieldName.slice(0, i);
  let value: unknown;
  if (first === "" || /^\d+$/.test(first)) {
    let index: number;
    if (first === "") {
      if (numbering.manual) {
        throw new RangeError("cannot switch from manual field specification to automatic field numbering");
      }
      index = numbering.next++;
    } else {
      if (numbering.next > 0) {
        throw new RangeError("cannot switch from automatic field numbering to manual field specification");
      }
      numbering.manual = true;
      index = Number(first);
    }
    if (index >= args.length) {
      throw new RangeError(
        `Replacement index ${index} out of range for positional args tuple (${args.length} given): pass more values or use a name`,
      );
    }
    value = args[index];
  } else {
    if (!Object.hasOwn(kwargs, first)) {
      const known = Object.keys(kwargs);
      throw new RangeError(
        `KeyError: '${first}' is not a field of this template${known.length > 0 ? ` (fields: ${known.join(", ")})` : ""}`,
      );
    }
    value = kwargs[first];
  }
  while (i < fieldName.length) {
    if (fieldName[i] === ".") {
      let j = i + 1;
      while (j < fieldName.length && fieldName[j] !== "." && fieldName[j] !== "[") j++;
      const attribute = fieldName.slice(i + 1, j);
      if (attribute === "") throw new RangeError("Empty attribute in format string");
      if (value === null || value === undefined || !(attribute in Object(value))) {
        throw new RangeError(`AttributeError: ${pythonRepr(pythonStr(value))} has no attribute '${attribute}'`);
      }
      value = (Object(value) as Record<string, unknown>)[attribute];
      i = j;
    } else if (fieldName[i] === "[") {
      const close = fieldName.indexOf("]", i + 1);
      if (close < 0) throw new RangeError("Missing ']' in format string");
      const key = fieldName.slice(i + 1, close);
      if (key === "") throw new RangeError("Empty attribute in format string");
      const container = Object(value) as Record<string, unknown>;
      if (value === null || value === undefined || !(key in container)) {
        throw new RangeError(`KeyError: ${/^\d+$/.test(key) ? key : `'${key}'`}`);
      }
      value = container[key];
      i = close + 1;
      if (i < fieldName.length && fieldName[i] !== "." && fieldName[i] !== "[") {
        throw new RangeError("Only '.' or '[' may follow ']' in format field specifier");
      }
    } else {
      break;
    }
  }
  return value;
}

function render(
  template: string,
  args: readonly unknown[],
  kwargs: Readonly<Record<string, unknown>>,
  numbering: Numbering,
  depth: number,
): string {
  if (depth <= 0) throw new RangeError("Max string recursion exceeded");
  const end = template.length;
  let out = "";
  let pos = 0;
  while (pos < end) {
    // Literal text up to a "{" or "}".
    const start = pos;
    let c = "";
    while (pos < end) {
      c = template[pos++] as string;
      if (c === "{" || c === "}") break;
      c = "";
    }
    const atEnd = pos >= end;
    if (c === "") {
      out += template.slice(start, pos);
      break;
    }
    if (c === "}" && (atEnd || template[pos] !== "}")) {
      throw new RangeError("Single '}' encountered in format string: write '}}' for a literal '}'");
    }
    if (c === "{" && atEnd) {
      throw new RangeError("Single '{' encountered in format string: write '{{' for a literal '{'");
    }
    if (template[pos] === c) {
      // "{{" or "}}": a literal brace.
      out += template.slice(start, pos);
      pos++;
      continue;
    }
    out += template.slice(start, pos - 1);
    // A replacement field: name, then "!" conversion, then ":" spec.
    const nameStart = pos;
    let stop = "";
    while (pos < end) {
      const ch = template[pos++] as string;
      if (ch === "{") throw new RangeError("unexpected '{' in field name");
      if (ch === "[") {
        while (pos < end && template[pos] !== "]") pos++;
        continue;
      }
      if (ch === "}" || ch === ":" || ch === "!") {
        stop = ch;
        break;
      }
    }
    if (stop === "") throw new RangeError("expected '}' before end of string");
    const fieldName = template.slice(nameStart, pos - 1);
    let conversion = "";
    let spec = "";
    let specNeedsExpanding = false;
    if (stop === "!" || stop === ":") {
      let closed = false;
      if (stop === "!") {
        if (pos >= end) throw new RangeError("end of string while looking for conversion specifier");
        conversion = template[pos++] as string;
        if (pos < end) {
          const next = template[pos++];
          if (next === "}") closed = true;
          else if (next !== ":") throw new RangeError("expected ':' after conversion specifier");
        }
      }
      if (!closed) {
        const specStart = pos;
        let count = 1;
        while (pos < end) {
          const ch = template[pos++];
          if (ch === "{") {
            specNeedsExpanding = true;
            count++;
          } else if (ch === "}") {
            count--;
            if (count === 0) break;
          }
        }
        if (count !== 0) throw new RangeError("unmatched '{' in format spec");
        spec = template.slice(specStart, pos - 1);
      }
    }
    let value = lookup(fieldName, args, kwargs, numbering);
    if (conversion !== "") {
      if (conversion === "s") value = pythonStr(value);
      else if (conversion === "r") value = pythonRepr(value);
      else if (conversion === "a") value = pythonRepr(value).replace(/[\u0080-\u{10ffff}]/gu, asciiEscape);
      else throw new RangeError(`Unknown conversion specifier ${conversion}: use !s, !r or !a`);
    }
    if (specNeedsExpanding) spec = render(spec, args, kwargs, numbering, depth - 1);
    // Inside a spec ("{:{width}.{digits}f}") a whole number is a width or a precision: print it
    // as Python prints an int, not as a float.
    if (depth < 2 && spec === "" && typeof value === "number" && Number.isInteger(value)) out += String(value);
    else out += formatValue(value, spec);
  }
  return out;
}

function asciiEscape(ch: string): string {
  const code = ch.codePointAt(0) as number;
  if (code <= 0xff) return `\\x${code.toString(16).padStart(2, "0")}`;
  if (code <= 0xffff) return `\\u${code.toString(16).padStart(4, "0")}`;
  return `\\U${code.toString(16).padStart(8, "0")}`;
}

/**
 * Fills a Python `str.format` template: `formatTemplate(t, args, kwargs)` is Python's
 * `t.format(*args, **kwargs)`. Fields are `{}` (the next positional value), `{0}`, `{name}`,
 * `{name.attr}`, `{name[key]}`, with a conversion (`!s`, `!r`, `!a`) and a format spec after
 * `:` (see {@link formatValue}), which may itself hold fields (`{:{width}.{digits}f}`);
 * `{{` and `}}` are literal braces.
 *
 * Throws `RangeError` where Python raises `ValueError`, `KeyError` or `IndexError`: a single
 * `}`, a missing field, mixing `{}` and `{0}`.
 *
 * @example
 * formatTemplate("Task {name} elapsed time: {:.1f}", [15], { name: "One" }) // "Task One elapsed time: 15.0"
 * formatTemplate("{{}} {:>6.2%}", [0.5])                                    // "{} 50.00%"
 */
export function formatTemplate(
  template: string,
  args: readonly unknown[] = [],
  kwargs: Readonly<Record<string, unknown>> = {},
): string {
  if (typeof template !== "string") {
    throw new TypeError(`Expected the template to be a string, got ${typeof template}`);
  }
  return render(template, args, kwargs, { next: 0, manual: false }, 2);
}
