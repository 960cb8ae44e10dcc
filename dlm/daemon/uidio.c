/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * uidio.c - the UID service's record I/O on its own aio context (see
 * uidio.h; docs/uid.md, "How record I/O runs").
 *
 * Life of an operation:
 *
 *   start ──► RUN FIFO ──(pump: room in the context and in this turn's
 *              ▲          budget; a write passes uid_write_gate first)──►
 *              │          KERNEL ──(completion or deadline, inside
 *              │          aio_process: decoded into the op)──► DONE FIFO
 *              │                                                  │
 *              └──── next read / write of the chain ◄── step ◄────┘
 *                                                        │
 *                                    chain over ──► done(op, rc)
 *
 * A gate refusal, a failed submission and a shutdown also go through the
 * DONE FIFO, so done never runs inside a start call, and every step runs
 * outside the aio callbacks (a continuation may do anything but call
 * uio_process).  Both FIFOs are drained a bounded amount per turn.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sdlm.h"
#include "log.h"
#include "aio.h"
#include "clock.h"
#include "area.h"
#include "uidio.h"

struct uio {
	struct area *a;
	int fd;
	struct aio_ctx *aio;
	uio_may_use_fn may_use;
	uio_kick_fn kick;
	void *ctx;
	void *wbuf;		/* encoding scratch: aio copies it at submit */
	struct uio_op *run, **run_tail;
	struct uio_op *done, **done_tail;
	unsigned starts;	/* submissions in this turn */
	unsigned busy;		/* operations started, done not yet called */
	bool in_process;
	bool closing;
	uint64_t record_writes;
	struct uidtab_geom g;	/* the tables known (grows, never shrinks) */
};

static void fifo_push(struct uio_op **head, struct uio_op ***tail, struct uio_op *op)
{
	op->qnext = NULL;
	op->queued = true;
	**tail = op;
	*tail = &op->qnext;
}

static struct uio_op *fifo_pop(struct uio_op **head, struct uio_op ***tail)
{
	struct uio_op *op = *head;

	if (!op)
		return NULL;
	*head = op->qnext;
	if (!*head)
		*tail = head;
	op->qnext = NULL;
	op->queued = false;
	return op;
}

static void kick_host(struct uio *io)
{
	if (!io->in_process && io->kick)
		io->kick(io->ctx);
}

/* The op has a step to run with result (a completion, or an error that
 * never reached the disk). */
static void to_done(struct uio_op *op, int result)
{
	struct uio *io = op->io;

	op->result = result;
	fifo_push(&io->done, &io->done_tail, op);
	kick_host(io);
}

/* --- submission ------------------------------------------------------------ */

static void read_done(void *arg, int result, const void *data, size_t len)
{
	struct uio_op *op = arg;
	struct uio *io = op->io;
	uint32_t ss = io->a->hdr.sector_size, c;

	if (op->rd_desc && result == SDLM_ESHORTIO && io->g.next_desc != op->rd_desc_at) {
		/* another probe added the table meanwhile: go on in it */
		op->desc_stale = true;
		result = 0;
	} else if (op->rd_desc && result == SDLM_ESHORTIO) {
		/* "no table" only when the device, sized now, ends before the
		 * pair after table 0 (a file or LUN sized to the area); a short
		 * read of a pair that is there, or partly there, fails closed */
		int rc = area_uid_desc_missing(io->a, &io->g);

		if (rc == 1) {
			op->desc_stale = false;
			op->desc_rc[0] = op->desc_rc[1] = UIDREC_ABSENT;
			result = 0;
		} else {
			log_warn("uid: a short read of the UID table descriptor at sector %llu: %s (a table may be there: refused; docs/uid.md, growing the table)",
				 (unsigned long long)op->rd_desc_at,
				 sdlm_strerror(rc < 0 ? rc : result));
			result = rc < 0 ? rc : result;
		}
	} else if (result == 0 && len == (size_t)UIDREC_COPIES * ss && op->rd_desc) {
		/* a table descriptor: decoded against the chain known now */
		op->desc_stale = io->g.next_desc != op->rd_desc_at;
		for (c = 0; c < UIDREC_COPIES && !op->desc_stale; c++)
			op->desc_rc[c] = uidtab_desc_in(&op->desc[c], (const uint8_t *)data + c * ss,
							ss, io->a->hdr.uuid, &io->g, c);
	} else if (result == 0 && len == (size_t)UIDREC_COPIES * ss)
		for (c = 0; c < UIDREC_COPIES; c++) {
			const uint8_t *sec = (const uint8_t *)data + c * ss;

			op->rec_rc[c] = uidrec_in(&op->rec[c], sec, ss, io->a->hdr.uuid,
						  op->rd_slot, c);
			op->claim[c] = op->rec_rc[c] == 0 ? 0 :
				       uidrec_claimed_guid(sec, ss, op->claim_guid[c]);
			op->claim_tag_have[c] = op->rec_rc[c] != 0 &&
				uidrec_claimed_lstag(sec, ss, op->claim_tag[c]) == 0;
			if (op->rec_rc[c] == 0)
				memcpy(op->claim_guid[c], op->rec[c].guid, UID_GUID_LEN);
		}
	else if (result == 0)
		result = SDLM_ESHORTIO;
	to_done(op, result);
}

static void write_done(void *arg, int result, const void *data, size_t len)
{
	struct uio_op *op = arg;

	(void)data;
	(void)len;
	/* before the core hears of it: stuck is never set without this */
	if (result == SDLM_EIOTIMEOUT)
		op->out |= 1u << op->w.rec.copy;
	to_done(op, result);
}

/* A timed-out write of ours has left the kernel (aio_submit_write_gone). */
static void write_gone(void *arg)
{
	struct uio_gone *g = arg;

	g->op->out &= ~(1u << g->copy);
	kick_host(g->op->io);
}

static uint64_t deadline(const struct uio *io)
{
	return aio_now_ns() + (uint64_t)io->a->hdr.io_timeout_ms * 1000000;
}

/* Both copies of rd_slot in one read (they are adjacent). */
static int submit_read(struct uio *io, struct uio_op *op)
{
	uint64_t off;
	int rc;

	if (op->rd_desc) {
		op->rd_desc_at = io->g.next_desc;
		off = io->g.next_desc * io->a->hdr.sector_size;
		rc = 0;
	} else {
		rc = uidtab_geom_offset(&io->g, op->rd_slot, 0, &off);
	}
	if (rc == 0)
		rc = aio_submit_read(io->aio, io->fd, off,
				     (size_t)UIDREC_COPIES * io->a->hdr.sector_size,
				     deadline(io), read_done, op);
	return rc;
}

/*
 * docs/uid.md: every record write checks, right before it is submitted,
 * that this node may still use its locks and that the operation was not
 * told to stop (uio_stop: the mailbox is being given up).  A refusal is
 * final for this write (the core took it as failed): *gated says so.
 */
static int submit_write(struct uio *io, struct uio_op *op)
{
	struct uid_rec *r = &op->w.rec;
	uint32_t ss = io->a->hdr.sector_size;
	uint64_t off;
	int rc;

	rc = uid_write_gate(op->m, op->stop ? SDLM_EFENCED : io->may_use(io->ctx), &op->w);
	if (rc < 0) {
		log_warn("uid %s: record write (slot %llu copy %u) not issued: %s", op->who,
			 (unsigned long long)r->slot, r->copy, sdlm_strerror(rc));
		op->gated = true;
		return rc;
	}
	r->wall_time_ms = clock_realtime_ms();
	io->record_writes++;
	rc = uidtab_geom_offset(&io->g, r->slot, r->copy, &off);
	if (rc == 0)
		rc = uidrec_out(r, io->a->hdr.uuid, io->wbuf, ss);
	if (rc == 0) {
		struct uio_gone *g = &op->gone[r->copy % UIDREC_COPIES];

		g->op = op;
		g->copy = r->copy;
		rc = aio_submit_write_gone(io->aio, io->fd, off, io->wbuf, ss, deadline(io),
					   write_done, op, write_gone, g);
	}
	return rc;
}

/* Submit what waits, within the context's room and this turn's budget. */
static void pump(struct uio *io)
{
	struct uio_op *op;
	int rc;

	while (io->run && io->starts < UIO_STARTS_PER_TURN &&
	       (io->closing || aio_inflight(io->aio) < UIO_MAX_INFLIGHT)) {
		op = fifo_pop(&io->run, &io->run_tail);
		if (io->closing) {
			to_done(op, -ESHUTDOWN);
			continue;
		}
		io->starts++;
		rc = op->kind == UIO_WRITES ? submit_write(io, op) : submit_read(io, op);
		if (rc < 0)
			to_done(op, rc);
	}
}

static void want_io(struct uio_op *op)
{
	struct uio *io = op->io;

	fifo_push(&io->run, &io->run_tail, op);
	if (!io->in_process) {
		pump(io);
		/* a new deadline, or work left for the next turn */
		kick_host(io);
	}
}

/* --- the chains ------------------------------------------------------------ */

static void finish(struct uio_op *op, int rc)
{
	op->busy = false;
	op->kind = UIO_NONE;
	op->io->busy--;
	op->done(op, rc);
}

static void start(struct uio *io, struct uio_op *op, enum uio_kind kind, const char *who,
		  uio_done_fn done)
{
	op->io = io;
	op->kind = kind;
	op->busy = true;
	op->done = done;
	op->who = who ? who : "";
	op->gated = false;
	op->stop = false;
	op->io_err = false;
	io->busy++;
}

static int probe_begin(struct uio_op *op, const uint8_t guid[UID_GUID_LEN], bool insert)
{
	int rc = uidtab_probe_init_geom(&op->p, guid, &op->io->g, insert);

	if (op->key[0]) {
		/* a record of our GUID under another name is a collision */
		op->p.name = op->key;
		op->p.name_len = strlen(op->key);
	}
	op->answer_read = false;
	op->rd_desc = false;
	op->own_err = op->other_err = op->blind_err = 0;
	op->rd_slot = op->p.slot;
	return rc;
}

void uio_lookup(struct uio *io, struct uio_op *op, const char *ls,
		const uint8_t guid[UID_GUID_LEN], const char *key, const char *who,
		uio_done_fn done)
{
	int rc;

	start(io, op, UIO_LOOKUP, who, done);
	snprintf(op->ls, sizeof(op->ls), "%s", ls);
	snprintf(op->key, sizeof(op->key), "%s", key ? key : "");
	memcpy(op->guid, guid, UID_GUID_LEN);
	memcpy(op->rec_guid, guid, UID_GUID_LEN);
	op->legacy_tried = false;
	op->legacy = false;
	rc = probe_begin(op, guid, false);
	if (rc < 0)
		to_done(op, rc);
	else
		want_io(op);
}

void uio_insert(struct uio *io, struct uio_op *op, const uint8_t guid[UID_GUID_LEN],
		const char *key, const char *who, uio_done_fn done)
{
	int rc;

	start(io, op, UIO_INSERT, who, done);
	snprintf(op->key, sizeof(op->key), "%s", key ? key : "");
	memcpy(op->guid, guid, UID_GUID_LEN);
	memcpy(op->rec_guid, guid, UID_GUID_LEN);
	op->legacy_tried = true;
	op->legacy = false;
	rc = probe_begin(op, guid, true);
	if (rc < 0)
		to_done(op, rc);
	else
		want_io(op);
}

void uio_writes(struct uio *io, struct uio_op *op, struct uid_mbox *m,
		const struct uid_write *w, const char *who, uio_done_fn done)
{
	start(io, op, UIO_WRITES, who, done);
	op->m = m;
	op->w = *w;
	want_io(op);
}

void uio_stop(struct uio_op *op)
{
	if (op->busy)
		op->stop = true;
}

static void found(struct uio_op *op)
{
	op->slot = op->p.slot;
	if (op->legacy)
		log_info("uid %s: a record of the legacy name GUID (slot %llu): used as it is",
			 op->key, (unsigned long long)op->slot);
	finish(op, 0);
}

/*
 * The descriptor after the last known table was read: a table another
 * node added (learnt here, for every probe of this node from now on), or
 * none.  One that does not read fails the probe closed: it may hold the
 * mailbox.
 */
static int desc_read(struct uio_op *op)
{
	struct uio *io = op->io;
	struct uidtab_desc d;
	int rc;

	op->rd_desc = false;
	/* Another probe of this node read the same descriptor and added the
	 * table meanwhile (before this completion, or after it but before
	 * this step: completions are reaped before their steps run). */
	if (op->desc_stale || io->g.next_desc != op->rd_desc_at)
		return uidtab_probe_table(&op->p);
	rc = uidtab_desc_resolve(op->desc, op->desc_rc, &d);
	if (rc == UIDREC_ABSENT)
		return uidtab_probe_table(&op->p);
	if (rc < 0) {
		char why[512];

		uidtab_desc_why(why, sizeof(why), &io->g, op->desc_rc);
		log_warn("uid: %s", why);
		return rc;
	}
	rc = uidtab_geom_add(&io->g, &d);
	if (rc < 0) {
		log_warn("uid: UID table %u at sector %llu cannot be added: %s", d.index,
			 (unsigned long long)d.start, sdlm_strerror(rc));
		return rc;
	}
	log_notice("uid: UID table %u found (grown online): %llu slots from sector %llu; %llu slots in %u tables",
		   d.index, (unsigned long long)d.nslots, (unsigned long long)d.start,
		   (unsigned long long)uidtab_geom_total(&io->g), io->g.ntables);
	return uidtab_probe_table(&op->p);
}

/*
 * The slot read has no intact copy (err): whose do its copies say it is?
 * Evidence only, for a restore's choice of slot (uio_op: own, other,
 * blind); the probe passes the slot whatever they say.
 */
static void damaged_claims(struct uio_op *op, int err)
{
	bool ours = false, other = false, other_ls = false, tag_ok;
	uint8_t tag[UIDREC_LSTAG_LEN];
	unsigned c, o = 0;

	/* Our lockspace's tag: a copy naming our GUID under another one's is
	 * that lockspace's mailbox (review s25-rev1 R2).  No tag (an older
	 * record, or damaged there) proves nothing either way. */
	tag_ok = uid_lstag(op->ls, tag) == 0;
	for (c = 0; c < UIDREC_COPIES; c++) {
		if (op->claim[c] < 0)
			continue;
		if (memcmp(op->claim_guid[c], op->p.guid, UID_GUID_LEN) == 0 &&
		    !(op->claim_tag_have[c] &&
		      (!tag_ok || memcmp(op->claim_tag[c], tag, UIDREC_LSTAG_LEN)))) {
			ours = true;
		} else if (!other) {
			other = true;
			o = c;
			other_ls = memcmp(op->claim_guid[c], op->p.guid, UID_GUID_LEN) == 0;
		}
	}
	if (other && !op->other_err) {
		op->other_err = err;
		op->other_slot = op->rd_slot;
		op->other_ls = other_ls;
		memcpy(op->other_guid, op->claim_guid[o], UID_GUID_LEN);
	} else if (ours && !other && !op->own_err) {
		op->own_err = err;
		op->own_slot = op->rd_slot;
	} else if (!ours && !other && !op->blind_err) {
		op->blind_err = err;
		op->blind_slot = op->rd_slot;
	}
}

/* A slot pair was read (or not): step the probe. */
static void probe_step(struct uio_op *op)
{
	int rc = op->result;

	if (rc < 0) {
		/* an I/O error ends the probe: nothing is known */
		op->io_err = true;
		finish(op, rc);
		return;
	}
	if (op->rd_desc) {
		rc = desc_read(op);
		goto stepped;
	}
	for (unsigned c = 0; c < UIDREC_COPIES; c++)
		if (op->rec_rc[c] < 0)
			log_warn("uid: slot %llu copy %u is damaged: %s",
				 (unsigned long long)op->rd_slot, c, sdlm_strerror(op->rec_rc[c]));
	rc = uidrec_resolve(op->rec, op->rec_rc, &op->v);
	if (op->answer_read) {
		/* the answer's own view (a tombstone's, for insert) */
		if (rc == 0)
			found(op);
		else
			finish(op, rc);
		return;
	}
	/* A damaged slot is passed (it never blocks a mailbox found further
	 * on); not finding ours past it is its error. */
	if (rc < 0)
		damaged_claims(op, rc);
	rc = rc < 0 ? uidtab_probe_damaged(&op->p, rc) : uidtab_probe_step(&op->p, &op->v);
stepped:
	if (rc == UIDTAB_TABLE) {
		op->rd_desc = true;
		want_io(op);
		return;
	}
	if (rc < 0 && op->p.damaged && rc == op->p.damaged) {
		log_warn("uid: the mailbox may be in damaged slot %llu: %s (docs/uid.md, damaged records)",
			 (unsigned long long)op->p.damaged_slot, sdlm_strerror(rc));
		op->slot = op->p.damaged_slot;	/* where a restore writes */
	}
	if (rc == 0) {
		if (op->p.slot == op->rd_slot) {
			found(op);
			return;
		}
		op->answer_read = true;
		op->rd_slot = op->p.slot;
		want_io(op);
		return;
	}
	if (rc == UIDTAB_MORE) {
		op->rd_slot = op->p.slot;
		want_io(op);
		return;
	}
	/*
	 * A named mailbox not found may be a record created before GUIDs
	 * were derived with SHA-256: looked up by its legacy GUID too (same
	 * name required) and used as it is.
	 */
	if (rc == -ENOENT && !op->legacy_tried && op->key[0]) {
		uint8_t legacy[UID_GUID_LEN];

		op->legacy_tried = true;
		if (uid_name_guid(op->ls, op->key, strlen(op->key), UIDNAME_V1, legacy) == 0 &&
		    probe_begin(op, legacy, false) >= 0) {
			memcpy(op->rec_guid, legacy, UID_GUID_LEN);
			op->legacy = true;
			want_io(op);
			return;
		}
	}
	finish(op, rc);
}

static void writes_step(struct uio_op *op)
{
	struct uid_rec *r = &op->w.rec;
	int rc = op->result;

	if (op->gated) {
		/* uid_write_gate already told the core */
		finish(op, rc);
		return;
	}
	if (rc < 0)
		log_warn("uid %s: record write (slot %llu copy %u): %s", op->who,
			 (unsigned long long)r->slot, r->copy, sdlm_strerror(rc));
	rc = uid_write_done(op->m, rc, &op->w);
	if (rc < 0) {
		finish(op, rc);
		return;
	}
	if (op->w.count) {
		want_io(op);
		return;
	}
	finish(op, 0);
}

static void step(struct uio_op *op)
{
	if (op->kind == UIO_WRITES)
		writes_step(op);
	else
		probe_step(op);
}

/* --- the turn -------------------------------------------------------------- */

int uio_process(struct uio *io, uint64_t now_ns)
{
	struct uio_op *op;
	unsigned steps = 0;
	int rc = 0;

	io->in_process = true;
	io->starts = 0;
	if (io->aio)
		rc = aio_process(io->aio, now_ns);
	while (steps < UIO_STEPS_PER_TURN && (op = fifo_pop(&io->done, &io->done_tail))) {
		steps++;
		step(op);
	}
	pump(io);
	io->in_process = false;
	return rc;
}

uint64_t uio_next_deadline_ns(struct uio *io)
{
	if (io->done || (io->run && (io->closing || aio_inflight(io->aio) < UIO_MAX_INFLIGHT)))
		return 0;
	return io->aio ? aio_next_deadline(io->aio) : UINT64_MAX;
}

int uio_fd(struct uio *io)
{
	return aio_ctx_fd(io->aio);
}

bool uio_idle(struct uio *io)
{
	return aio_inflight(io->aio) == 0;
}

uint64_t uio_record_writes(const struct uio *io)
{
	return io->record_writes;
}

void uio_apply_fault(struct uio *io, const char *spec)
{
	struct aio_fault f;

	if (!spec || aio_fault_parse(spec, &f) < 0)
		aio_fault_set(io->aio, NULL);
	else
		aio_fault_set(io->aio, &f);
}

/* --- life ------------------------------------------------------------------ */

int uio_create(struct uio **out, struct area *a, uio_may_use_fn may_use, uio_kick_fn kick,
	       void *ctx)
{
	struct uio *io;
	uint32_t ss;
	int rc;

	io = calloc(1, sizeof(*io));
	if (!io)
		return -ENOMEM;
	io->a = a;
	io->fd = -1;
	io->may_use = may_use;
	io->kick = kick;
	io->ctx = ctx;
	io->run_tail = &io->run;
	io->done_tail = &io->done;
	ss = a->hdr.sector_size;
	rc = posix_memalign(&io->wbuf, AIO_BUF_ALIGN, ss) ? -ENOMEM : 0;
	if (rc == 0)
		rc = aio_open_dev(a->path, &io->fd, &ss);
	if (rc == 0)
		rc = aio_ctx_create(&io->aio, UIO_MAX_INFLIGHT);
	if (rc < 0) {
		if (io->fd >= 0)
			close(io->fd);
		free(io->wbuf);
		free(io);
		return rc;
	}
	if (uidtab_geom_init(&io->g, &a->hdr) < 0)
		memset(&io->g, 0, sizeof(io->g));	/* no UID area: probes refuse */
	*out = io;
	return 0;
}

const struct uidtab_geom *uio_geom(const struct uio *io)
{
	return &io->g;
}

/* Run turns until no operation is busy or the time is up. */
static void drain(struct uio *io, uint64_t end_ns)
{
	uint64_t now = aio_now_ns();

	while (io->busy && now < end_ns) {
		struct pollfd pfd = { .fd = aio_ctx_fd(io->aio), .events = POLLIN };
		uint64_t until;

		if (uio_process(io, now) < 0)
			break;
		if (!io->busy)
			break;
		until = uio_next_deadline_ns(io);
		if (until > end_ns)
			until = end_ns;
		(void)poll(&pfd, 1, until > now ? (int)((until - now + 999999) / 1000000) : 0);
		now = aio_now_ns();
	}
}

/*
 * Like hbe_destroy: the operations' continuations belong to the caller,
 * whose state must outlive them.  Queued operations end with
 * -ESHUTDOWN; those in the kernel get up to wait_ms; then the context is
 * destroyed, which calls back what is left (SDLM_ECANCELED), and those
 * continuations run here too.  A request the kernel still owns after
 * that is aio_ctx_destroy's to leak; nothing here calls back later.
 */
void uio_destroy(struct uio *io, unsigned wait_ms)
{
	struct uio_op *op;

	if (!io)
		return;
	io->closing = true;
	io->kick = NULL;	/* the host is going away */
	drain(io, aio_now_ns() + (uint64_t)wait_ms * 1000000);
	aio_ctx_destroy(io->aio, wait_ms);
	io->aio = NULL;
	/* No context: every step that wants I/O ends with -ESHUTDOWN. */
	while (io->done || io->run) {
		io->in_process = true;
		while ((op = fifo_pop(&io->done, &io->done_tail)))
			step(op);
		while ((op = fifo_pop(&io->run, &io->run_tail)))
			to_done(op, -ESHUTDOWN);
		io->in_process = false;
	}
	if (io->fd >= 0)
		close(io->fd);
	free(io->wbuf);
	free(io);
}
