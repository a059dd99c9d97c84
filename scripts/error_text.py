#!/usr/bin/env python3
"""Compact table of every error's name and sentence, for device/core/error.c.

    python3 scripts/error_text.py DEVICE_DIR OUTPUT_HEADER

Reads the modules' errors.def files in the order device/core/error.h includes them and writes a
C header (generated, not committed) that error.c decodes. Run by CMake at build time and by
scripts/size.sh. Why: the plain table (every sentence and name as a string, three words per
entry) was 16 KB of a device's flash; this one is about 6 KB and gives back the same texts.

The format (error.c has the decoder; decode() below is the same, and every entry is checked
against its .def text before the header is written):
- error_words: every distinct word, back to back without separators, ordered by (group, length
  in symbols, text), packed as 5-bit symbols (least significant bit first). A symbol below
  ERROR_DIRECT_CHARACTERS is that place of error_characters (the most used characters); a larger
  one is followed by a second symbol: place DIRECT + (first - DIRECT) * 32 + second. Group 0 is
  the ERROR_SHORT_WORDS most frequent words, group 1 the rest. error_word_counts lists how many
  words of group 0 are 1, 2, ... symbols long, then (from ERROR_LONG_WORD_COUNTS) group 1's, so
  a word's place is found from its index without a table of offsets.
- error_entries: per error, sorted by code: the code's increase over the previous entry (one
  byte), the name's words, ERROR_END, the sentence's words, ERROR_END. A word index below
  ERROR_SHORT_WORDS is one byte; a larger one is two: ERROR_SHORT_WORDS + high byte, low byte.
  When every name of a hundred's range starts with the same word (IMAGE, BOOT, AT, NET, AGENT),
  the entries leave it out and error_range_prefixes holds it once (1 + its index; 0: none).
- A sentence is split at spaces, and "(" at a word's front and ",", ":", ";", ")", "?", "'s" at
  its end become words of their own. Decoding joins words with a space, except before one of
  those split-off words and after a "(".
- A name is split at "_"; each part is a word whose upper case it is (so "FLASH" shares "flash"
  with the sentences); decoding joins with "_" and upper-cases a-z.
"""
import collections
import re
import sys

END = 0xFF
TRAILING = ",:;)?"
GLUED = set(TRAILING) | {"'s"}  # words that attach to the word before them


def read_entries(device):
    header = open(f"{device}/core/error.h", encoding="ascii").read()
    modules = re.findall(r'#include "(\w+)/errors\.def"', header)
    entries = []
    pattern = re.compile(r'\s*CELLOTA_ERROR\((\w+),\s*(\d+),\s*"((?:[^"\\]|\\.)*)"\)\s*$')
    for module in modules:
        path = f"{device}/{module}/errors.def"
        for number, line in enumerate(open(path, encoding="ascii"), 1):
            match = pattern.match(line)
            if not match:
                if "CELLOTA_ERROR(" in line and not line.lstrip().startswith("/*"):
                    sys.exit(f"{path}:{number}: cannot read this CELLOTA_ERROR line")
                continue
            sentence = match.group(3)
            if re.search(r'\\[^"\\]', sentence):
                sys.exit(f"{path}:{number}: only \\\" and \\\\ escapes are supported")
            sentence = re.sub(r'\\(["\\])', r"\1", sentence)
            entries.append((int(match.group(2)), match.group(1), sentence))
    entries.sort()
    codes = [code for code, _, _ in entries]
    if len(set(codes)) != len(codes):
        sys.exit("error_text: two errors share a code")
    return entries


def sentence_words(sentence):
    words = []
    for part in sentence.split(" "):
        front = []
        while len(part) > 1 and part[0] == "(":
            front.append("(")
            part = part[1:]
        back = []
        while len(part) > 1 and part[-1] in TRAILING:
            back.insert(0, part[-1])
            part = part[:-1]
        if len(part) > 2 and part.endswith("'s"):
            back.insert(0, "'s")
            part = part[:-2]
        words += front + [part] + back
    return words


def decode(words, name):
    text = ""
    glue = True
    for word in words:
        if not glue and not (not name and word in GLUED):
            text += "_" if name else " "
        glue = not name and word == "("
        text += word.upper() if name else word
    return text


def main():
    device, output = sys.argv[1], sys.argv[2]
    entries = read_entries(device)
    frequency = collections.Counter()
    split = []
    for code, name, sentence in entries:
        words = sentence_words(sentence)
        if "" in words or decode(words, False) != sentence:
            sys.exit(f"error_text: the sentence of {name} does not survive splitting: {sentence!r}")
        frequency.update(words)
        split.append((code, name, words))
    # A name's part uses a sentence word whose upper case it is, or becomes a word of its own.
    upper = {}
    for word in sorted(frequency):
        upper.setdefault(word.upper(), word)
    named = []
    for code, name, words in split:
        parts = []
        for part in name.split("_"):
            if not re.fullmatch(r"[A-Z0-9]+", part):
                sys.exit(f"error_text: {name}: a name is upper-case words joined by _")
            word = upper.setdefault(part, part.lower())
            frequency[word] += 1
            parts.append(word)
        named.append((code, name, parts, words))

    # Characters: the DIRECT most frequent are one 5-bit symbol each; the others two, an escape
    # symbol (DIRECT..31, a page of 32) and the place on that page.
    usage = collections.Counter()
    for word, count in frequency.items():
        usage.update(word)
    if any(not 32 < ord(character) < 127 for character in usage):
        sys.exit("error_text: the texts must be printable ASCII")
    by_usage = sorted(usage, key=lambda character: (-usage[character], character))
    direct = 32 - (len(by_usage) + 31) // 32 if len(by_usage) > 32 else 32
    while direct + (32 - direct) * 32 < len(by_usage):
        direct -= 1
    alphabet = "".join(by_usage)

    def symbols(word):
        result = []
        for character in word:
            place = alphabet.index(character)
            if place < direct:
                result.append(place)
            else:
                result += [direct + (place - direct) // 32, (place - direct) % 32]
        return result

    def units(word):
        return len(symbols(word))

    # A hundred's range whose names all start with the same word (IMAGE_, BOOT_, ...) keeps that
    # word once, in error_range_prefixes, instead of in every entry.
    ranges = collections.defaultdict(list)
    for code, name, parts, words in named:
        ranges[code // 100].append(parts)
    prefixes = {}
    for hundred, names in ranges.items():
        if len({parts[0] for parts in names}) == 1 and all(len(parts) > 1 for parts in names):
            prefixes[hundred] = names[0][0]
            frequency[names[0][0]] -= len(names) - 1
    by_frequency = sorted(frequency, key=lambda word: (-frequency[word], word))
    lead_bytes = 1
    while 255 - lead_bytes + lead_bytes * 256 < len(by_frequency):
        lead_bytes += 1
    short_count = min(255 - lead_bytes, len(by_frequency))
    groups = [by_frequency[:short_count], by_frequency[short_count:]]
    order = []
    longest = max(units(word) for word in frequency)
    counts = []
    for group in groups:
        group = sorted(group, key=lambda word: (units(word), word))
        order += group
        # how many words of each length 1, 2, ... up to the group's longest
        counts.append([sum(1 for word in group if units(word) == length)
                       for length in range(1, max(map(units, group), default=0) + 1)])
    index = {word: position for position, word in enumerate(order)}
    count_type = "uint8_t" if max(max(row, default=0) for row in counts) < 256 else "uint16_t"

    def encode(words):
        data = []
        for word in words:
            position = index[word]
            if position < short_count:
                data.append(position)
            else:
                rest = position - short_count
                data += [short_count + rest // 256, rest % 256]
        return data + [END]

    stream = []
    previous = 0
    text_size = 0
    for code, name, parts, words in named:
        if code - previous > 255:
            sys.exit(f"error_text: {name}: more than 255 after the code before it")
        stream.append(code - previous)
        previous = code
        if code // 100 in prefixes:
            stream += encode(parts[1:]) + encode(words)
        else:
            stream += encode(parts) + encode(words)
        if decode(parts, True) != name:
            sys.exit(f"error_text: the name {name} does not survive splitting")
        text_size = max(text_size, len(name) + 1, len(decode(words, False)) + 1)

    def rows(values, per_line=16):
        return "\n".join("    " + " ".join(f"{value}," for value in values[start:start + per_line])
                         for start in range(0, len(values), per_line))

    # The words' symbols, 5 bits each, least significant bit first, and a byte of padding so
    # the decoder may always read two bytes.
    bits = []
    for word in order:
        for symbol in symbols(word):
            bits += [(symbol >> bit) & 1 for bit in range(5)]
    packed = [sum(bits[start + bit] << bit for bit in range(8) if start + bit < len(bits))
              for start in range(0, len(bits), 8)] + [0]
    short_units = sum(units(word) for word in groups[0])
    place = 0
    for word in order:  # read back the way error.c's word_at() does
        text = ""
        end = place + units(word)
        while place < end:
            symbol = sum(bits[place * 5 + bit] << bit for bit in range(5))
            if symbol >= direct:
                place += 1
                symbol = direct + (symbol - direct) * 32 + sum(
                    bits[place * 5 + bit] << bit for bit in range(5))
            text += alphabet[symbol]
            place += 1
        if text != word:
            sys.exit(f"error_text: the word {word!r} does not survive packing")

    def character_literal(character):
        return "'" + ("\\" + character if character in "'\\" else character) + "'"
    with open(output, "w", encoding="ascii") as out:
        out.write("/* Generated by scripts/error_text.py from the errors.def files: do not edit. */\n")
        out.write(f"#define ERROR_END {END}\n")
        out.write(f"#define ERROR_SHORT_WORDS {short_count}\n")
        out.write(f"#define ERROR_LONGEST_WORD {longest}\n")
        out.write(f"#define ERROR_SHORT_WORD_UNITS {short_units}\n")
        out.write(f"#define ERROR_DIRECT_CHARACTERS {direct}\n")
        out.write(f"#define ERROR_TEXT_LONGEST {text_size}\n")
        out.write(f"typedef {count_type} error_word_count;\n")
        out.write(f"#define ERROR_LONG_WORD_COUNTS {len(counts[0])}\n")
        out.write("static const error_word_count error_word_counts[] = {\n")
        out.write(rows(counts[0] + counts[1], 16))
        out.write("\n};\n")
        hundreds = max(code for code, _, _, _ in named) // 100 + 1
        out.write(f"#define ERROR_RANGES {hundreds}\n")
        out.write("/* per hundred: 1 + the word every name starts with, or 0 */\n")
        out.write("static const uint16_t error_range_prefixes[ERROR_RANGES] = {")
        out.write(", ".join(str(index[prefixes[hundred]] + 1 if hundred in prefixes else 0)
                            for hundred in range(hundreds)))
        out.write("};\n")
        out.write("static const char error_characters[] = {\n")
        out.write(rows([character_literal(character) for character in alphabet], 12))
        out.write("\n};\n")
        out.write(f"/* {len(order)} words, {sum(map(len, order))} characters in {len(packed)} bytes */\n")
        out.write("static const uint8_t error_words[] = {\n")
        out.write(rows(packed, 16))
        out.write("\n};\n")
        out.write(f"/* {len(named)} errors, {len(stream)} bytes */\n")
        out.write("static const uint8_t error_entries[] = {\n")
        out.write(rows(stream, 16))
        out.write("\n};\n")


if __name__ == "__main__":
    main()
