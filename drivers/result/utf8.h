/* UTF-8 checks for text parkit hands to formats that must be valid UTF-8
 * (the key=value line, JSON): paths and option text are bytes. */
#ifndef PARKIT_UTF8_H
#define PARKIT_UTF8_H

/* Bytes of the valid UTF-8 sequence at `text`: 1 for an ASCII byte, 2 to 4
 * for a valid multi-byte sequence (RFC 3629: no overlong forms, no
 * surrogates, nothing above U+10FFFF), 0 for a byte that starts none. Reads
 * no further than a terminating NUL. */
int parkit_utf8_sequence_length(const unsigned char *text);

#endif
