#include "quote.h"

#include <string.h>

static const char plain_characters[] = "abcdefghijklmnopqrstuvwxyz"
                                       "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                       "0123456789-_=./,:+@%";

bool parkit_shell_quote(const char *word, char *out, size_t size) {
  if (size == 0)
    return false;
  size_t length = strlen(word);
  if (length > 0 && strspn(word, plain_characters) == length) {
    if (length >= size) {
      out[0] = '\0';
      return false;
    }
    memcpy(out, word, length + 1);
    return true;
  }
  size_t used = 0;
  out[used++] = '\'';
  for (const char *c = word; *c; ++c) {
    const char *piece = *c == '\'' ? "'\\''" : NULL;
    size_t piece_length = piece ? 4 : 1;
    if (used + piece_length + 2 > size) {
      out[0] = '\0';
      return false;
    }
    if (piece)
      memcpy(out + used, piece, piece_length);
    else
      out[used] = *c;
    used += piece_length;
  }
  if (used + 2 > size) {
    out[0] = '\0';
    return false;
  }
  out[used++] = '\'';
  out[used] = '\0';
  return true;
}

bool parkit_shell_join(const char *const *words, int count, char *text,
                       size_t size, size_t *used) {
  for (int i = 0; i < count; ++i) {
    if (*used > 0) {
      if (*used + 2 > size)
        return false;
      text[(*used)++] = ' ';
      text[*used] = '\0';
    }
    if (!parkit_shell_quote(words[i], text + *used, size - *used))
      return false;
    *used += strlen(text + *used);
  }
  return true;
}
