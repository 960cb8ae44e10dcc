/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ondisk.h - the on-disk format of the sdlm heartbeat/fencing area.
 *
 * Sector layout (S = sector size, 512 or 4096, fixed at init and stored in
 * the header; N = num_nodes, 1..SDLM_MAX_NODES; node ids are 1..N):
 *
 *	sector 0		header			struct sdlm_header
 *	sector i, 1 <= i <= N	heartbeat slot of node i	struct sdlm_hb
 *	sector N + i		message slot of node i	struct sdlm_msg
 *	sector 2N + 1 ...	reserved for the UID area (uid_area_start,
 *				uid_area_sectors in the header; 0 = none)
 *
 * so one read of sectors [1, 2N + 1) returns every heartbeat and every
 * message (layout_slots_offset / layout_slots_len).  Each heartbeat slot
 * has exactly one writer, its node; each message slot is written by the
 * fencer or the operator tool and read by its target.
 *
 * Every record is SDLM_RECORD_SIZE (512) bytes at the start of its sector:
 * magic[8], major u16, minor u16, flags u32, fields naturally aligned with
 * explicit padding, reserved zero bytes, and a CRC32C in the last 4 bytes
 * that covers every byte before it.  All integers are little-endian.  On a
 * 4096-byte sector the 3584 bytes after the record are zero; the CRC does
 * not cover them, but the decoders require them to be zero and report a
 * non-zero tail as SDLM_ECHECKSUM (the sector as a whole is corrupt).
 *
 * The structs below are host-order views for the rest of the code; the
 * byte layout is private to ondisk.c and documented in docs/ondisk.md.
 *
 * *_out encode: they zero the whole sector buffer, write the record and its
 * CRC, and return 0, or -EINVAL if the buffer is shorter than a record or
 * the host struct holds a value the format forbids (an insane record is
 * never written).
 *
 * *_in decode and verify, in this order, with a distinct error for each:
 *	len < SDLM_RECORD_SIZE (or a bad argument)	-EINVAL, payload untouched
 *	wrong magic					SDLM_EMAGIC
 *	major != SDLM_ONDISK_MAJOR (any minor is fine)	SDLM_EVERSION
 *	  (the header: major 1 or 2, and in major 2 a feature flag this
 *	  reader does not know: SDLM_EVERSION; major 2 with none: -EUCLEAN)
 *	CRC32C mismatch, or non-zero sector tail	SDLM_ECHECKSUM
 *	uuid / node id not the expected ones		SDLM_EIDENTITY
 *	a value the format forbids (checksum valid)	-EUCLEAN
 *	  (heartbeat of minor >= 1: also a version that is not 0..31
 *	  printable ASCII characters and a NUL; of minor >= 2: also a
 *	  hand-off area that breaks a rule below)
 *
 * Minors are per record kind, each one only adding fields in what the
 * lower minor reserved (readers of a lower minor ignore reserved bytes,
 * so they read the new record as before; a reader of a higher minor reads
 * a field the record's minor does not define as zero):
 *	header	0
 *	heartbeat	1: version (sdlm's version of the writer; "" = unknown)
 *			2: the hand-off areas (docs/design-handoff.md §4):
 *			   release requests of this node (req_seq, req[8])
 *			   and its answers (ans_seq, ans_count, ans_lvb,
 *			   ans[4]), in what minor 1 reserved (184..495)
 *	message	0
 *
 * The hand-off areas' rules (hb_in: -EUCLEAN; hb_out: -EINVAL), checked
 * for a record of minor >= 2 (hb_out always writes one):
 *	H1  req[]: an entry is empty when its lkid is 0; the empty entries
 *	    come last and are all zero (lkid and target_incarnation)
 *	H2  a non-empty request's lkid names a node 1..255 in its upper 32
 *	    bits, not the slot's own node, and its target_incarnation != 0
 *	H3  req_seq == 0 (no request ever written) => every entry empty
 *	H4  ans_count <= SDLM_HB_ANS_MAX; the entries at and after
 *	    ans_count are all zero (lkid and lvb)
 *	H5  an answer entry's lkid names the slot's own node (upper 32 bits)
 *	H6  no ans_lvb bit at or above ans_count; an entry whose bit is
 *	    clear has an all-zero lvb
 *	H7  ans_seq == 0 (no answer ever written) => ans_count == 0
 * A reader of minor 2 reads the areas of a minor 0/1 record as zero (no
 * request, no answer) and never looks at those bytes, whatever they hold.
 * A record of a later minor keeps these rules (a minor only adds fields);
 * if its areas break one anyway they read as zero too, and a version
 * that is not printable reads as "": the record is not refused for them
 * (a record of minor 2 is).
 *
 * -EUCLEAN ("structure needs cleaning") is what Linux file systems return
 * for on-disk metadata that is well checksummed but inconsistent; it keeps
 * "the disk holds nonsense" apart from "the caller passed nonsense"
 * (-EINVAL).  On any error the output struct is zeroed.
 */
#ifndef SDLM_ONDISK_H
#define SDLM_ONDISK_H

#include <stddef.h>
#include <stdint.h>

#define SDLM_ONDISK_MAJOR	1	/* incompatible changes */
#define SDLM_ONDISK_MINOR	0	/* header and message slot: compatible
					   additions in reserved space */
#define SDLM_HB_MINOR		2	/* heartbeat slot (1: version,
					   2: hand-off areas) */
/*
 * The header's incompatible features (docs/ondisk.md, "Incompatible
 * features").  A header with none is major 1, as ever.  One with any is
 * major 2 and its flags word lists them: every 1.x reader refuses major 2
 * (SDLM_EVERSION), and a major-2 reader refuses a feature it does not
 * know.  So a daemon that must not use the area as it is never does.
 *   UID_CHAIN: the UID table has grown (docs/uid.md, "Growing the
 *   table"); set by the first grow before its table's descriptor is
 *   written.  A reader that does not follow the chain would look for a
 *   mailbox in table 0 only and create it there again: UIDs twice.
 *   UID_SEGLOCK: every node creating mailboxes in this area takes the
 *   UID table's segment locks (docs/uid.md, "The table lock"), so a
 *   creator takes no other table lock; set by 'sdlmctl uid segments
 *   --enable' once no node of an older release runs.  A reader that
 *   takes only the older table locks would not be serialised with the
 *   creators: two mailboxes in one slot.
 */
#define SDLM_HDR_MAJOR_FEATURES	2
#define SDLM_HDR_MAJOR_MAX	SDLM_HDR_MAJOR_FEATURES
#define SDLM_HDR_F_UID_CHAIN	0x00000001u
#define SDLM_HDR_F_UID_SEGLOCK	0x00000002u
#define SDLM_HDR_F_KNOWN	(SDLM_HDR_F_UID_CHAIN | SDLM_HDR_F_UID_SEGLOCK)
/*
 * The heartbeat's flags (the prefix's flags word; docs/ondisk.md).  Every
 * writer before them wrote the word 0 and every reader copied it without
 * a check, so an old reader ignores them and an old writer's record reads
 * as "none": no minor is needed.  A reader keeps bits it does not know.
 *   LAPSE_FENCES: the writer's incarnation fences itself on a lapsed
 *   lease, quorate or not (issue 19 item 3): an observer may judge it
 *   dead by f + D.  Without it (a build before the rule, in a rolling
 *   upgrade) a quorate victim keeps feeding its watchdog up to M after it
 *   left, and the observer waits max(f, a) + D + M (docs/timeouts.md).
 */
#define SDLM_HB_F_LAPSE_FENCES	0x00000001u
/*
 *   NO_WATCHDOG: the writer's incarnation runs with no watchdog
 *   (no_watchdog = yes): nothing resets it if it hangs, so a still
 *   heartbeat proves nothing and an observer never judges it dead by time
 *   (fencesm.h, peer_dead_at): only its acknowledgement of a pill, or an
 *   operator (sdlmctl fence confirm), fences it.
 */
#define SDLM_HB_F_NO_WATCHDOG	0x00000002u
#define SDLM_VERSION_LEN	32	/* NUL included: 31 characters at most */
#define SDLM_HB_REQ_MAX		8	/* release requests per heartbeat */
#define SDLM_HB_ANS_MAX		4	/* answered grants per heartbeat */
#define SDLM_HB_LVB_LEN		32	/* a lock value block (LS_LVB_LEN) */

#define SDLM_RECORD_SIZE	512
#define SDLM_RECORD_CRC_OFFSET	(SDLM_RECORD_SIZE - 4)
#define SDLM_SECTOR_SIZE_MIN	512
#define SDLM_SECTOR_SIZE_MAX	4096
#define SDLM_MAX_NODES		255
#define SDLM_DISK_NAME_LEN	64	/* NUL included: 63 characters at most */
#define SDLM_UUID_LEN		16
#define SDLM_UUID_STR_LEN	37	/* 36 characters and the NUL */

struct sdlm_header {
	uint16_t major;			/* filled by hdr_in; hdr_out writes ours */
	uint16_t minor;
	uint32_t flags;			/* SDLM_HDR_F_*: incompatible features
					   (major 2); hdr_out writes major 2
					   when any is set */
	uint32_t sector_size;		/* 512 or 4096 */
	uint32_t num_nodes;		/* N, 1..SDLM_MAX_NODES */
	char cluster_name[SDLM_DISK_NAME_LEN];	/* 1..63 characters */
	uint8_t uuid[SDLM_UUID_LEN];	/* cluster identity, not all zero */
	uint32_t io_timeout_ms;		/* all three non-zero; their */
	uint32_t hb_interval_ms;	/* consistency is timeouts.c's */
	uint32_t watchdog_timeout_ms;	/* business (SDLM_ETIMEOUTS) */
	uint64_t create_time;		/* unix seconds, information only */
	char create_host[SDLM_DISK_NAME_LEN];	/* 0..63 characters */
	uint64_t uid_area_start;	/* first sector, >= 2N + 1; 0 = none */
	uint64_t uid_area_sectors;	/* 0 = none */
};

enum hb_state {
	HB_FREE		= 0,	/* never used, or the node left cleanly */
	HB_ALIVE	= 1,
	HB_FENCED_SELF	= 2,	/* stopped after a pill or an I/O failure */
	HB_EXITING	= 3,	/* clean exit in progress */
};
#define HB_STATE_MAX	HB_EXITING

/*
 * Minor 2: "node V (target_incarnation): give back your grant lkid".
 * lkid = V's node id << 32 | V's counter (dlm/core/nodelock.c); 0 = empty.
 */
struct sdlm_hb_req {
	uint64_t lkid;
	uint64_t target_incarnation;
};

/*
 * Minor 2: "I, this slot's node (the record's incarnation), stopped the
 * grant lkid for good; its value block is lvb" (valid if its ans_lvb bit
 * is set, else all zero).
 */
struct sdlm_hb_ans {
	uint64_t lkid;
	uint8_t lvb[SDLM_HB_LVB_LEN];
};

struct sdlm_hb {
	uint32_t flags;			/* SDLM_HB_F_* (0 before issue 19) */
	uint32_t node_id;		/* 1..SDLM_MAX_NODES, = slot index */
	uint32_t state;			/* enum hb_state */
	uint64_t counter;		/* +1 per write; liveness */
	uint64_t incarnation;		/* random nonce per daemon start */
	uint32_t ack_cmd;		/* enum msg_cmd acknowledged, 0 none */
	uint64_t ack_seq;		/* seq of the acknowledged message */
	uint64_t ack_incarnation;	/* the pill's target_incarnation */
	uint32_t hb_interval_ms;	/* the writer's own interval */
	uint64_t wall_time_ms;		/* information only, never liveness */
	char node_name[SDLM_DISK_NAME_LEN];	/* 0..63 characters */
	char version[SDLM_VERSION_LEN];	/* minor 1: the writer's sdlm version,
					   0..31 printable ASCII; "" unknown
					   (minor 0 slots read as "") */
	/* minor 2 (all zero when read from a minor 0/1 record): */
	uint64_t req_seq;		/* +1 per change of req[]; 0 = none yet */
	struct sdlm_hb_req req[SDLM_HB_REQ_MAX];	/* empty ones last */
	uint64_t ans_seq;		/* +1 per change of the answer area */
	uint32_t ans_count;		/* 0..SDLM_HB_ANS_MAX */
	uint32_t ans_lvb;		/* bit e: ans[e].lvb is valid */
	struct sdlm_hb_ans ans[SDLM_HB_ANS_MAX];
	uint16_t minor;			/* set by hb_in from the disk */
	uint8_t uuid[SDLM_UUID_LEN];	/* set by hb_in from the disk */
};

enum msg_cmd {
	MSG_CLEAR	= 0,
	MSG_TEST	= 1,
	MSG_RESET	= 2,
	MSG_OFF		= 3,
};
#define MSG_CMD_MAX	MSG_OFF

struct sdlm_msg {
	uint32_t flags;			/* none defined in 1.0 */
	uint32_t node_id;		/* target, 1..SDLM_MAX_NODES */
	uint32_t cmd;			/* enum msg_cmd */
	uint64_t seq;			/* strictly increasing per slot */
	uint64_t target_incarnation;	/* 0 = whatever incarnation */
	uint32_t from_node;		/* 0 = operator tool, else 1..255 */
	uint64_t wall_time_ms;		/* information only */
	uint8_t uuid[SDLM_UUID_LEN];	/* set by msg_in from the disk */
};

/*
 * Header.  hdr_in's len may exceed the header's sector (a probe read of
 * 4096 bytes on a 512-byte-sector area); only the tail up to the header's
 * own sector_size must be zero.  There is no identity to check.
 */
int hdr_out(const struct sdlm_header *h, void *sector, size_t sector_size);
int hdr_in(struct sdlm_header *h, const void *sector, size_t len);

/*
 * Heartbeat slot.  hb_out stamps uuid and writes minor SDLM_HB_MINOR
 * (hb->uuid and hb->minor are ignored).  hb_in's
 * len is exactly one sector; the record must carry uuid and
 * expect_node_id (1..SDLM_MAX_NODES, else -EINVAL).
 */
int hb_out(const struct sdlm_hb *hb, const uint8_t uuid[SDLM_UUID_LEN],
	   void *sector, size_t sector_size);
int hb_in(struct sdlm_hb *hb, const void *sector, size_t len,
	  const uint8_t uuid[SDLM_UUID_LEN], uint32_t expect_node_id);

/* Message slot: same contract as the heartbeat slot; node_id = target. */
int msg_out(const struct sdlm_msg *msg, const uint8_t uuid[SDLM_UUID_LEN],
	    void *sector, size_t sector_size);
int msg_in(struct sdlm_msg *msg, const void *sector, size_t len,
	   const uint8_t uuid[SDLM_UUID_LEN], uint32_t expect_node_id);

/*
 * Layout arithmetic, in bytes from the start of the area, for a header
 * that hdr_in accepted.  The slot offsets return 0 and store *off, or
 * -EINVAL when node_id is outside 1..num_nodes (an error rather than a
 * sentinel: a caller that ignored a sentinel 0 would write the header).
 */
int layout_hb_offset(const struct sdlm_header *h, uint32_t node_id,
		     uint64_t *off);
int layout_msg_offset(const struct sdlm_header *h, uint32_t node_id,
		      uint64_t *off);
uint64_t layout_slots_offset(const struct sdlm_header *h);	/* sector 1 */
uint64_t layout_slots_len(const struct sdlm_header *h);	/* 2N sectors */
uint64_t layout_area_len(const struct sdlm_header *h);	/* through UID area */

/* Names for logs and sdlmctl; "unknown" for values outside the enums. */
const char *hb_state_name(uint32_t state);
const char *msg_cmd_name(uint32_t cmd);
/* "clear", "test", "reset", "off" -> enum msg_cmd; else -EINVAL. */
int msg_cmd_parse(const char *name);

/*
 * UUIDs in the 8-4-4-4-12 text form.  Prefixed, unlike libuuid's
 * uuid_parse/uuid_unparse, so the two can never interpose each other in
 * a process that loads libuuid through some other library.
 * sdlm_uuid_unparse writes 36 lowercase characters and a NUL into out;
 * sdlm_uuid_parse accepts either case and returns 0 or -EINVAL.
 */
void sdlm_uuid_unparse(const uint8_t uuid[SDLM_UUID_LEN],
		       char out[SDLM_UUID_STR_LEN]);
int sdlm_uuid_parse(const char *in, uint8_t uuid[SDLM_UUID_LEN]);

#endif /* SDLM_ONDISK_H */
