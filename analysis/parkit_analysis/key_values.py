"""The "PARKIT key=value ..." line every run prints for harnesses: parse it
(and write one, for tests). Its grammar (README.md, "The key=value line";
drivers/result/key_values.c writes it):

    line   = "PARKIT" 1*(" " pair)
    pair   = key "=" value
    key    = [a-z][a-z0-9_-]*
    value  = bare / quoted
    bare   = 1*(a character 0x21-0x7E other than '"', '\\' and '=')
    quoted = '"' *(escape / any other character) '"'
    escape = \\\\  \\"  \\n  \\t  \\r  \\xHH   (HH: a byte, two hex digits)

Values are returned as text (`float(fields["rate"])` for a number). A
\\xHH escape stands for one byte: bytes that do not form UTF-8 come back as
Python's surrogate escapes, so a path round-trips to what os.fsdecode
gives. Needs nothing beyond the standard library.

    from parkit_analysis.key_values import find_line
    fields = find_line(completed.stdout)      # exactly one PARKIT line
    fields["verified"], fields["rate"], fields["file"]
"""
import re

PREFIX = "PARKIT"
KEY = re.compile(r"[a-z][a-z0-9_-]*")
BARE = re.compile(r'[\x21-\x7e]+')
BARE_FORBIDDEN = set('"\\=')
ESCAPES = {"\\": "\\", '"': '"', "n": "\n", "t": "\t", "r": "\r"}


def _quoted(line, start):
    """The value of the quoted string whose opening quote is at `start`,
    and the index after its closing quote."""
    data = bytearray()
    position = start + 1
    while position < len(line):
        character = line[position]
        if character == '"':
            return data.decode("utf-8", "surrogateescape"), position + 1
        if character == "\\":
            code = line[position + 1:position + 2]
            if code in ESCAPES:
                data += ESCAPES[code].encode()
                position += 2
                continue
            digits = line[position + 2:position + 4]
            if code == "x" and re.fullmatch(r"[0-9a-fA-F]{2}", digits):
                data.append(int(digits, 16))
                position += 4
                continue
            raise ValueError(f"bad escape {line[position:position + 4]!r} "
                             f"at column {position} of the PARKIT line")
        if character in "\n\r":
            break
        data += character.encode("utf-8", "surrogateescape")
        position += 1
    raise ValueError(f"unterminated quoted value at column {start} of the "
                     "PARKIT line")


def parse_line(line):
    """{key: value} of one PARKIT line (with or without its newline).
    Raises ValueError naming the column where the line breaks the grammar,
    or a key that appears twice."""
    line = line.rstrip("\n")
    if not line.startswith(PREFIX + " "):
        raise ValueError(f"not a PARKIT line: {line[:40]!r}")
    fields = {}
    position = len(PREFIX)
    while position < len(line):
        if line[position] != " ":
            raise ValueError(f"expected a space at column {position} of the "
                             "PARKIT line")
        key = KEY.match(line, position + 1)
        if key is None or line[key.end():key.end() + 1] != "=":
            raise ValueError(f"expected key=value at column {position + 1} "
                             "of the PARKIT line")
        start = key.end() + 1
        if line[start:start + 1] == '"':
            value, position = _quoted(line, start)
        else:
            bare = BARE.match(line, start)
            if bare is None:
                raise ValueError(f"missing value of {key.group()!r}")
            value = bare.group()
            stop = next((i for i, c in enumerate(value)
                         if c in BARE_FORBIDDEN), None)
            if stop is not None:
                raise ValueError(f"{value[stop]!r} in the bare value of "
                                 f"{key.group()!r}: it must be quoted")
            position = bare.end()
        if key.group() in fields:
            raise ValueError(f"key {key.group()!r} appears twice")
        fields[key.group()] = value
    return fields


def find_line(output):
    """The fields of the one PARKIT line in a run's stdout (text). Raises
    ValueError when there is none or more than one."""
    lines = [line for line in output.splitlines()
             if line.startswith(PREFIX + " ")]
    if len(lines) != 1:
        raise ValueError(f"expected one PARKIT line, found {len(lines)}")
    return parse_line(lines[0])


def format_value(value):
    """A value as the line writes it: bare when it can be, else quoted."""
    if value and all(0x21 <= ord(c) <= 0x7e and c not in BARE_FORBIDDEN
                     for c in value):
        return value
    return '"' + "".join(_characters(value)) + '"'


def _characters(value):
    """The pieces of a quoted value: escapes, printable ASCII, valid UTF-8
    characters as they are, and \\xHH for the bytes of surrogate escapes."""
    for character in value:
        code = ord(character)
        if character == "\\":
            yield "\\\\"
        elif character == '"':
            yield '\\"'
        elif character == "\n":
            yield "\\n"
        elif character == "\t":
            yield "\\t"
        elif character == "\r":
            yield "\\r"
        elif 0xdc80 <= code <= 0xdcff:  # a byte that was no UTF-8
            yield f"\\x{code - 0xdc00:02x}"
        elif code < 0x20 or code == 0x7f:
            yield f"\\x{code:02x}"
        else:
            yield character


def format_line(fields):
    """The PARKIT line (no newline) of {key: text}: parse_line's inverse."""
    for key in fields:
        if not KEY.fullmatch(key):
            raise ValueError(f"{key!r} is not a key of the PARKIT line")
    return PREFIX + "".join(f" {key}={format_value(str(value))}"
                            for key, value in fields.items())
