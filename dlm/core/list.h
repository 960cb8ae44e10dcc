/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * list.h - an intrusive doubly-linked list: a struct dl inside each
 * element, a struct dl as the head; container_of() gets back from the
 * link to the element.  An empty list (or an unlinked element) points at
 * itself, so dl_del() of an unlinked element is harmless.
 */
#ifndef SDLM_LIST_H
#define SDLM_LIST_H

#include <stdbool.h>
#include <stddef.h>

#define container_of(ptr, type, member) \
	((type *)((char *)(ptr) - offsetof(type, member)))

struct dl {
	struct dl *next, *prev;
};

static inline void dl_init(struct dl *h)
{
	h->next = h->prev = h;
}

static inline bool dl_empty(const struct dl *h)
{
	return h->next == h;
}

static inline void dl_add_tail(struct dl *h, struct dl *n)
{
	n->prev = h->prev;
	n->next = h;
	h->prev->next = n;
	h->prev = n;
}

static inline void dl_del(struct dl *n)
{
	n->prev->next = n->next;
	n->next->prev = n->prev;
	n->next = n->prev = n;
}

#endif
