/*
 * keyrec.h - the idempotency key window's records (R11, issue 13): the
 * full form a keyed call fills in (quota__keyext), the 64-byte compact
 * form the window keeps (quota__keyrec), the window itself (quota__keys)
 * and a record read back (quota__keyview).  Written by keys.c (keytab.c
 * grows its table), and by keyview.c where packages move to a reloaded
 * account (the windows swapped) or are pruned (the records' package
 * numbers); included by ctx.h, whose account holds the window.
 */
#ifndef QUOTA_KEYREC_H
#define QUOTA_KEYREC_H

#ifndef QUOTA_CTX_H
#error "keyrec.h is included by ctx.h"
#endif

/* An idempotency key record (R11). */
enum { QUOTA__OP_CHARGE = 1, QUOTA__OP_RESERVE, QUOTA__OP_COMMIT,
       QUOTA__OP_RELEASE };

/*
 * A key record in full: what a keyed call fills in before its record is
 * stored (keys.c), and what a stored record that does not fit the compact
 * form (quota__keyrec) keeps.
 */
typedef struct quota__keyext {
	quota__box box; /* first: the receipt's sources */
	int32_t op;
	bool reversed;
	int64_t time; /* for the age bound */
	/* the parameters a repeat must match */
	uint32_t p_cat;
	int64_t p_units, p_at, p_timeout, p_used;
	uint64_t p_hold;
	/* the receipt to replay (besides the sources) */
	uint64_t hold_id;
	int64_t fee;
	char key[QUOTA_KEY_MAX + 1];
} quota__keyext;

/*
 * A stored key record: 64 bytes in the window's ring, in store order.
 * The receipt is rebuilt from it on replay (quota__key_view): the kind
 * follows from op, the sources of a call drawn from one source (the free
 * allowance, one package by its seq, one pay-as-you-go tier and price)
 * from units and w[0], and day and month from the time and the account's
 * UTC offset.  A call's parameters are those of its sources (charge,
 * reserve) or kept in the words after w[0]; the key's bytes follow them.
 * Anything else (several sources, a long key, parameters that differ)
 * keeps a quota__keyext, pointed to by w[0].
 */
enum {
	QUOTA__KR_OP = 0x07,   /* QUOTA__OP_* */
	QUOTA__KR_SRC = 0x18,  /* QUOTA__KS_* << 3 */
	QUOTA__KR_REVERSED = 0x20,
	QUOTA__KR_EXT = 0x40   /* w[0] points at a quota__keyext */
};
enum { QUOTA__KS_NONE = 0, QUOTA__KS_FREE, QUOTA__KS_PKG, QUOTA__KS_PAYG };

typedef struct quota__keyrec {
	uint32_t hash; /* the key's hash, low 32 bits (home and tag) */
	uint8_t flags; /* QUOTA__KR_* */
	uint8_t cat;   /* the sources' category */
	uint8_t klen;  /* the key's length */
	uint8_t tier;  /* QUOTA__KS_PAYG: the tier */
	int64_t time;  /* charge, reserve: also the usage time */
	int64_t units; /* the sources' units */
	union {
		int64_t w[5];
		char b[40];
		quota__keyext *x; /* QUOTA__KR_EXT */
	} u;
} quota__keyrec;

typedef struct quota__keyslot {
	uint32_t hash; /* the record's, so a probe reads no record */
	uint32_t rec;  /* its index in the ring; where ctrl is not 0 */
} quota__keyslot;

typedef struct quota__keys {
	quota__keyslot *tab; /* open addressing by hash */
	uint8_t *ctrl; /* per slot: 0 empty, 1 deleted, else 0x80 | 7 hash bits */
	uint32_t cap, n;
	/* The records, oldest first, in a ring of rcap from head (64-byte
	 * aligned in ring_mem). */
	quota__keyrec *ring;
	void *ring_mem;
	uint32_t rcap, head;
	quota__box *free; /* recycled small quota__keyext blocks */
	uint32_t max_keys;
	uint32_t ndel; /* deleted slots (keys.c) */
	int64_t max_age;
	int64_t newest;
	/* In a batch (batch.c): the ngone records it forgot stay in the ring
	 * before head, out of the table, so that a refused batch can put
	 * them back (quota__keys_undo). */
	bool keep;
	uint32_t ngone;
} quota__keys;

/* The window as a batch found it (quota__keys_mark): its records are the
 * first n from the oldest one kept. */
typedef struct quota__keymark {
	uint32_t n;
	int64_t newest;
} quota__keymark;

/* A stored record in full (quota__key_view): the parameters, the
 * receipt's sources (src.draws and src.paygs point into d and p, or into
 * the record's quota__keyext) and the key. */
typedef struct quota__keyview {
	quota__keyext e; /* but e.box.src: see src */
	quota__src src;
	quota__draw d;
	quota__payg p;
	int32_t kind;    /* QUOTA_RECEIPT_* */
} quota__keyview;

#endif
