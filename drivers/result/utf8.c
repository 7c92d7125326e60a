#include "utf8.h"

int parkit_utf8_sequence_length(const unsigned char *text) {
  unsigned char lead = text[0];
  if (lead < 0x80)
    return 1;
  int length = lead >= 0xc2 && lead <= 0xdf   ? 2
               : lead >= 0xe0 && lead <= 0xef ? 3
               : lead >= 0xf0 && lead <= 0xf4 ? 4
                                              : 0;
  for (int i = 1; i < length; ++i) /* a NUL is no continuation byte */
    if ((text[i] & 0xc0) != 0x80)
      return 0;
  if ((lead == 0xe0 && text[1] < 0xa0) || (lead == 0xed && text[1] >= 0xa0) ||
      (lead == 0xf0 && text[1] < 0x90) || (lead == 0xf4 && text[1] >= 0x90))
    return 0;
  return length;
}
