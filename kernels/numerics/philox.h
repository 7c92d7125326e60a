/*
 * Philox4x32-10: a counter-based random number generator (Salmon, Moraes,
 * Dror and Shaw, "Parallel Random Numbers: As Easy as 1, 2, 3", SC11).
 *
 * A counter of four 32-bit words and a key of two 32-bit words map to four
 * 32-bit random words through 10 rounds of a keyed bijection. There is no
 * state to carry: sample i can be drawn from counter i by any thread or rank,
 * so every split of the work draws the same numbers.
 *
 * One round multiplies words 0 and 2 by fixed odd constants, keeps the high
 * and low halves of the 64-bit products, and mixes the high halves with the
 * other two words and the key. Between rounds the key is bumped by a Weyl
 * sequence (the golden ratio and sqrt(3) - 1 in 32-bit fixed point).
 * Checked against the published known-answer vectors in
 * tests/unit/test_random.c.
 */
#ifndef PARKIT_PHILOX_H
#define PARKIT_PHILOX_H

#include <stdint.h>

#define PHILOX4X32_MULTIPLIER_0 UINT32_C(0xD2511F53)
#define PHILOX4X32_MULTIPLIER_1 UINT32_C(0xCD9E8D57)
#define PHILOX4X32_KEY_INCREMENT_0 UINT32_C(0x9E3779B9)
#define PHILOX4X32_KEY_INCREMENT_1 UINT32_C(0xBB67AE85)
#define PHILOX4X32_ROUNDS 10

/* One round: words updated in place with the round key (key_0, key_1). */
static inline void philox4x32_round(uint32_t words[4], uint32_t key_0,
                                    uint32_t key_1) {
  uint64_t product_0 = (uint64_t)PHILOX4X32_MULTIPLIER_0 * words[0];
  uint64_t product_1 = (uint64_t)PHILOX4X32_MULTIPLIER_1 * words[2];
  uint32_t high_0 = (uint32_t)(product_0 >> 32), low_0 = (uint32_t)product_0;
  uint32_t high_1 = (uint32_t)(product_1 >> 32), low_1 = (uint32_t)product_1;
  uint32_t word_1 = words[1], word_3 = words[3];
  words[0] = high_1 ^ word_1 ^ key_0;
  words[1] = low_1;
  words[2] = high_0 ^ word_3 ^ key_1;
  words[3] = low_0;
}

/* The four random words for `counter` under `key`. */
static inline void philox4x32_10(const uint32_t counter[4],
                                 const uint32_t key[2], uint32_t output[4]) {
  uint32_t words[4] = {counter[0], counter[1], counter[2], counter[3]};
  uint32_t key_0 = key[0], key_1 = key[1];
  for (int round = 0; round < PHILOX4X32_ROUNDS; ++round) {
    if (round > 0) {
      key_0 += PHILOX4X32_KEY_INCREMENT_0;
      key_1 += PHILOX4X32_KEY_INCREMENT_1;
    }
    philox4x32_round(words, key_0, key_1);
  }
  for (int i = 0; i < 4; ++i)
    output[i] = words[i];
}

#endif
