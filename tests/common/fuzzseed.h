/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fuzzseed.h - the seed files every fuzz target's --gen-corpus writes
 * (tests/fuzz/t-fuzz.sh links it into each): DIR/NAME, its bytes put in
 * the order of the target's input layout.
 *
 * The layouts share a first byte, the target's control byte, and most
 * then take one buffer (fuzzseed_write); the frame targets (fuzz_xport,
 * fuzz_fpmsg) write each frame twice, with a 2-byte header of their own
 * (fuzzseed_frame).  A layout of more parts opens the file and puts them
 * one by one (fuzzseed_open, fuzzseed_put, fuzzseed_close).
 *
 * Each returns 0 or -1 (a target's --gen-corpus then fails, and t-fuzz
 * with it); a failed put is reported by fuzzseed_close.
 */
#ifndef SDLM_FUZZSEED_H
#define SDLM_FUZZSEED_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct fuzzseed {
	FILE	*f;
	int	rc;
};

/* DIR/NAME, or DIR/NAME<suffix> unless suffix is NULL. */
int fuzzseed_open(struct fuzzseed *s, const char *dir, const char *name,
		  const char *suffix);
void fuzzseed_put(struct fuzzseed *s, const void *p, size_t n);
void fuzzseed_put8(struct fuzzseed *s, uint8_t v);
/* Closes the file: -1 if it could not be written whole. */
int fuzzseed_close(struct fuzzseed *s);

/* DIR/NAME: ctl, then n bytes of p. */
int fuzzseed_write(const char *dir, const char *name, uint8_t ctl,
		   const void *p, size_t n);

/* A frame twice, each copy the control byte, hdr[2], then the n bytes
 * of frame: DIR/NAME with control byte 0 (the decoder only), and
 * DIR/NAME<suffix> with ctl (the target's engine behind it too). */
int fuzzseed_frame(const char *dir, const char *name, const char *suffix,
		   uint8_t ctl, const uint8_t hdr[2], const void *frame,
		   size_t n);

#endif /* SDLM_FUZZSEED_H */
