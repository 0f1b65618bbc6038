/*
 * file_store.h - a libquota store (quota_store.h) on a plain file system,
 * no database: an append-only journal and one snapshot file per account.
 * Header only (static functions): include it in one .c file, after
 * defining _POSIX_C_SOURCE 200809L.  Used by examples/file_store.c.
 * Reading the files back and applying them (recovery steps 1-6, below)
 * is in file_store_read.h, which this header includes.
 *
 * Files in the store's directory:
 *
 *   journal         Every record the context hands the store, all streams
 *                   interleaved in the order the library produced them
 *                   (the configuration stream and each account's), exactly
 *                   as quota_journal(5) frames them: u32 LE body length,
 *                   u32 LE CRC-32C of the body, the body.  Written with
 *                   write(2); fsync(2) after each record, or once per
 *                   batch (begin/commit); FS_NO_FSYNC skips the fsyncs
 *                   (benchmarks: a crash may then lose or tear any number
 *                   of the last records).
 *   snap-NNNNNNNN   fs_snapshot: the snapshot of the context's account at
 *                   position NNNNNNNN (quota_ctx_account_at), in a frame
 *                   of ours (below) that also names the account, its
 *                   sequence number and the journal length it covers.
 *                   Written to snap-NNNNNNNN.tmp, fsync, rename, and the
 *                   directory fsync'd once all are renamed.  Each file is
 *                   replaced whole, so after a crash in fs_snapshot some
 *                   files are of the new round and some of the last one:
 *                   each is consistent on its own.
 *
 * Snapshot file, little-endian:
 *   0   8  magic "QFSSNAP\0"
 *   8   4  u32 format version (1; a newer one is refused: QUOTA_EVERSION)
 *   12  4  u32 id length k (1..QUOTA_ID_MAX)
 *   16  8  u64 journal offset: the journal's length when it was taken
 *   24  8  u64 the account's sequence number in the snapshot
 *   32  8  u64 snapshot length n
 *   40  k  account id
 *   40+k n the snapshot (quota_account_snapshot(3))
 *   end 4  u32 CRC-32C of every byte before it
 *
 * Recovery (fs_recover, into a new context):
 *   1. Read the journal and check every frame (length, CRC-32C), and that
 *      each stream's sequence numbers run 1, 2, 3, ... with no gap.
 *   2. A bad frame is a TORN TAIL if no valid frame (a sane length that
 *      fits in the file and a matching CRC-32C) starts at any byte after
 *      it: the last write was cut (a crash during write(2), or a size
 *      extended over bytes never written).  It is cut away (ftruncate,
 *      fsync) and recovery ends at the record before it.  A bad frame
 *      followed by a valid one is CORRUPTION (a flipped bit, a damaged
 *      length field that would otherwise swallow the records after it):
 *      recovery is refused with QUOTA_ECORRUPT before anything is
 *      applied, and the files are left as they are.  With fsync on, only
 *      the last record can be incomplete (each write is durable before
 *      the next starts), so the rule never refuses a crash; a tail cut
 *      in the middle of a batch or in FS_NO_FSYNC mode may leave holes
 *      that it refuses.
 *   3. Read the snapshot files; each must be intact (else QUOTA_ECORRUPT:
 *      they are renamed into place whole) and agree with the journal: an
 *      account the journal holds, its offset within the valid journal,
 *      the account's records before that offset exactly those with
 *      sequence numbers up to the snapshot's.
 *   4. Apply every configuration record, from the start of the journal
 *      (they are few; configuration only grows, so applying it ahead of
 *      account records that came before it changes nothing they did).
 *   5. Load the snapshots (quota_account_load), in file order, which is
 *      the order the accounts were made.
 *   6. Apply the account records in journal order, skipping those of an
 *      account whose snapshot covers them (sequence number <= the
 *      snapshot's).  An account with no snapshot is rebuilt from its
 *      first record.
 *   A record the library refuses (quota_journal_apply) fails recovery
 *   with QUOTA_ECORRUPT; the context is then half-built: free it.
 *
 * Outcomes of append: a failed write(2) or fsync(2) returns
 * QUOTA_EUNKNOWN (after a failed fsync nothing can be known about what is
 * on disk, STYLE 28) and the store refuses every further append until
 * fs_reopen, which reads the journal again as recovery does.  The host
 * then re-synchronises what was unknown: fs_resync_config for the
 * configuration stream, fs_resync_account for an account (reset to its
 * snapshot, then its later records).  A record whose sequence number is
 * not the next of its stream on disk gets QUOTA_ECONFLICT.
 *
 * One thread at a time per store (and per context, as libquota says).
 */
#ifndef FILE_STORE_H
#define FILE_STORE_H

#if !defined(_POSIX_C_SOURCE) || _POSIX_C_SOURCE < 200809L
#error "define _POSIX_C_SOURCE 200809L before including file_store.h"
#endif

#include <quota_store.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define FS_NO_FSYNC 1u

/* Fault injection (tests, the example's unknown-outcome demo). */
enum {
	FS_FAULT_NONE = 0,
	FS_FAULT_WRITE = 1, /* write half the record, then fail (EIO) */
	FS_FAULT_FSYNC = 2  /* write it all, then fsync fails (EIO) */
};

#define FS_SNAP_MAGIC "QFSSNAP"
#define FS_SNAP_VERSION 1
#define FS_SNAP_HEAD 40
#define FS_NONE UINT32_MAX

typedef struct fs_stream {
	char *id;          /* "" for the configuration stream (index 0) */
	uint64_t seq;      /* its last sequence number in the journal */
	bool has_snap;     /* a snapshot file holds this account */
	uint64_t snap_seq; /* ... at this sequence number */
	uint64_t snap_off; /* ... covering the journal up to this offset */
} fs_stream;

/* A record of the journal, found by fs_load. */
typedef struct fs_frame {
	uint64_t off;
	size_t len; /* the whole record, frame included */
	uint32_t stream;
	uint64_t seq;
} fs_frame;

typedef struct fs_snapfile {
	uint32_t index; /* snap-NNNNNNNN */
	uint32_t stream;
	uint8_t *buf;   /* the file */
	const uint8_t *snap;
	size_t len;
} fs_snapfile;

/* What fs_load read: the journal, its records, the snapshot files. */
typedef struct fs_image {
	uint8_t *j;
	size_t jlen, valid_end;
	fs_frame *fr;
	size_t nfr;
	fs_snapfile *sn;
	size_t nsn;
} fs_image;

typedef struct file_store {
	char *dir;
	unsigned flags;        /* FS_NO_FSYNC */
	int fd;                /* the journal, O_APPEND; -1 when closed */
	bool broken;           /* an I/O failed: refuse appends (fs_reopen) */
	bool in_batch;
	uint64_t end;          /* the journal's length */
	uint64_t cfg_acked;    /* last configuration record the context has */
	fs_stream *st;         /* streams, [0] the configuration */
	uint32_t nst, capst;
	uint32_t *slots;       /* open addressing over st: index + 1 */
	uint32_t nslots;
	uint32_t crc_tab[256];
	int fault;             /* FS_FAULT_* for the append fault_skip from now */
	uint32_t fault_skip;
	uint64_t nappends, nsyncs, torn; /* torn: bytes cut at the last load */
	char errmsg[512];
} file_store;

/* ------------------------------------------------------------ helpers */

static int fs_err(file_store *fs, int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(fs->errmsg, sizeof fs->errmsg, fmt, ap);
	va_end(ap);
	return rc;
}

/* What the last failed call of the store was about. */
static const char *fs_errmsg(const file_store *fs)
{
	return fs->errmsg;
}

static uint32_t fs_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static uint64_t fs_le64(const uint8_t *p)
{
	return (uint64_t)fs_le32(p) | (uint64_t)fs_le32(p + 4) << 32;
}

static void fs_put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void fs_put64(uint8_t *p, uint64_t v)
{
	fs_put32(p, (uint32_t)v);
	fs_put32(p + 4, (uint32_t)(v >> 32));
}

/* CRC-32C (Castagnoli, reflected 0x82F63B78), the journal's checksum. */
static void fs_crc_init(file_store *fs)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;

		for (int k = 0; k < 8; k++)
			c = c & 1 ? (c >> 1) ^ 0x82F63B78u : c >> 1;
		fs->crc_tab[i] = c;
	}
}

static uint32_t fs_crc32c(const file_store *fs, const uint8_t *p, size_t n)
{
	uint32_t c = 0xFFFFFFFFu;

	while (n--)
		c = fs->crc_tab[(c ^ *p++) & 0xFF] ^ (c >> 8);
	return ~c;
}

static char *fs_path(const file_store *fs, const char *name, char *buf,
		     size_t cap)
{
	snprintf(buf, cap, "%s/%s", fs->dir, name);
	return buf;
}

static int fs_sync_dir(file_store *fs)
{
	int d = open(fs->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc;

	if (d < 0)
		return -1;
	rc = fsync(d);
	close(d);
	return rc;
}

/* write(2) all of it; -1 (errno set) on failure, some of it maybe written. */
static int fs_write_fd(int fd, const uint8_t *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int fs_read_file(int fd, uint8_t **out, size_t *len)
{
	struct stat sb;
	uint8_t *b;
	size_t got = 0, n;

	*out = NULL;
	*len = 0;
	if (fstat(fd, &sb))
		return -1;
	n = (size_t)sb.st_size;
	if (!(b = malloc(n ? n : 1)))
		return -1;
	while (got < n) {
		ssize_t r = pread(fd, b + got, n - got, (off_t)got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			free(b);
			if (r == 0)
				errno = EIO; /* shrank under us */
			return -1;
		}
		got += (size_t)r;
	}
	*out = b;
	*len = n;
	return 0;
}

/* ------------------------------------------------------------ streams */

static uint64_t fs_hash(const char *s)
{
	uint64_t h = 1469598103934665603u; /* FNV-1a */

	while (*s)
		h = (h ^ (uint8_t)*s++) * 1099511628211u;
	return h;
}

static uint32_t fs_stream_find(const file_store *fs, const char *id)
{
	uint32_t m = fs->nslots - 1, i;

	if (!fs->nslots)
		return FS_NONE;
	i = (uint32_t)fs_hash(id) & m;
	for (; fs->slots[i]; i = (i + 1) & m)
		if (!strcmp(fs->st[fs->slots[i] - 1].id, id))
			return fs->slots[i] - 1;
	return FS_NONE;
}

static bool fs_slots_grow(file_store *fs)
{
	uint32_t n = fs->nslots ? fs->nslots * 2 : 64, *s = calloc(n, sizeof *s);

	if (!s)
		return false;
	free(fs->slots);
	fs->slots = s;
	fs->nslots = n;
	for (uint32_t k = 0; k < fs->nst; k++) {
		uint32_t i = (uint32_t)fs_hash(fs->st[k].id) & (n - 1);

		while (s[i])
			i = (i + 1) & (n - 1);
		s[i] = k + 1;
	}
	return true;
}

/* The stream of id, made if new; FS_NONE when out of memory. */
static uint32_t fs_stream_get(file_store *fs, const char *id)
{
	uint32_t k = fs_stream_find(fs, id), i;
	char *copy;

	if (k != FS_NONE)
		return k;
	if (fs->nst == fs->capst) {
		uint32_t cap = fs->capst ? fs->capst * 2 : 16;
		fs_stream *n = realloc(fs->st, cap * sizeof *n);

		if (!n)
			return FS_NONE;
		fs->st = n;
		fs->capst = cap;
	}
	if (2 * (fs->nst + 1) > fs->nslots && !fs_slots_grow(fs))
		return FS_NONE;
	if (!(copy = malloc(strlen(id) + 1)))
		return FS_NONE;
	strcpy(copy, id);
	k = fs->nst++;
	memset(&fs->st[k], 0, sizeof fs->st[k]);
	fs->st[k].id = copy;
	i = (uint32_t)fs_hash(id) & (fs->nslots - 1);
	while (fs->slots[i])
		i = (i + 1) & (fs->nslots - 1);
	fs->slots[i] = k + 1;
	return k;
}

static void fs_streams_clear(file_store *fs)
{
	for (uint32_t k = 0; k < fs->nst; k++)
		free(fs->st[k].id);
	fs->nst = 0;
	if (fs->slots)
		memset(fs->slots, 0, fs->nslots * sizeof *fs->slots);
}

/* ------------------------------------------------------------ reading */

/* Reading the journal and the snapshot files back, checking them and
 * applying them (fs_load, fs_cut_tail, fs_apply: recovery, above) are in
 * file_store_read.h, included here, where that code stood. */
#include "file_store_read.h"

/* ---------------------------------------------------------- the store */

static int fs_sync(file_store *fs, bool fail)
{
	fs->nsyncs++;
	if (fail) {
		errno = EIO;
		return -1;
	}
	return fsync(fs->fd);
}

static int fs_cb_append(void *ud, const char *account, uint64_t seq,
			const void *rec, size_t len)
{
	file_store *fs = ud;
	const char *id = account ? account : "";
	uint32_t s;
	int kind = FS_FAULT_NONE;

	if (fs->broken)
		return fs_err(fs, QUOTA_ESTORE,
			      "an earlier write failed: reopen the store");
	s = fs_stream_find(fs, id);
	if (seq != (s == FS_NONE ? 0 : fs->st[s].seq) + 1)
		return QUOTA_ECONFLICT; /* not the next on disk */
	if (s == FS_NONE && (s = fs_stream_get(fs, id)) == FS_NONE)
		return fs_err(fs, QUOTA_ENOMEM, "out of memory");
	if (fs->fault && fs->fault_skip-- == 0) {
		kind = fs->fault;
		fs->fault = FS_FAULT_NONE;
	}
	fs->nappends++;
	if (kind == FS_FAULT_WRITE) {
		(void)fs_write_fd(fs->fd, rec, len / 2);
		errno = EIO;
	}
	if (kind == FS_FAULT_WRITE || fs_write_fd(fs->fd, rec, len)) {
		fs->broken = true;
		fs_err(fs, QUOTA_EUNKNOWN, "%s/journal: write: %s", fs->dir,
		       strerror(errno));
		return QUOTA_EUNKNOWN;
	}
	fs->end += len;
	if ((kind == FS_FAULT_FSYNC ||
	     (!fs->in_batch && !(fs->flags & FS_NO_FSYNC))) &&
	    fs_sync(fs, kind == FS_FAULT_FSYNC)) {
		/* STYLE 28: what is on disk is unknown now; stop. */
		fs->broken = true;
		fs_err(fs, QUOTA_EUNKNOWN, "%s/journal: fsync: %s", fs->dir,
		       strerror(errno));
		return QUOTA_EUNKNOWN;
	}
	fs->st[s].seq = seq;
	if (s == 0)
		fs->cfg_acked = seq;
	return QUOTA_OK;
}

/* A batch: the records appended until commit share one fsync. */
static int fs_cb_begin(void *ud)
{
	file_store *fs = ud;

	if (fs->broken)
		return QUOTA_ESTORE;
	fs->in_batch = true;
	return QUOTA_OK;
}

static int fs_cb_commit(void *ud)
{
	file_store *fs = ud;

	fs->in_batch = false;
	if (fs->broken)
		return QUOTA_EUNKNOWN;
	if (!(fs->flags & FS_NO_FSYNC) && fs_sync(fs, false)) {
		fs->broken = true;
		fs_err(fs, QUOTA_EUNKNOWN, "%s/journal: fsync: %s", fs->dir,
		       strerror(errno));
		return QUOTA_EUNKNOWN;
	}
	return QUOTA_OK;
}

/* ------------------------------------------------------------ the API */

/* A store for directory dir (made if missing); NULL when out of memory.
 * Nothing is opened until fs_recover. */
static file_store *fs_new(const char *dir, unsigned flags)
{
	file_store *fs = calloc(1, sizeof *fs);

	if (!fs || !(fs->dir = malloc(strlen(dir) + 1))) {
		free(fs);
		return NULL;
	}
	strcpy(fs->dir, dir);
	fs->flags = flags;
	fs->fd = -1;
	fs_crc_init(fs);
	return fs;
}

/* Close the journal and free the store.  Free the context that uses it
 * first (or remove its store with quota_ctx_set_store(ctx, NULL)). */
static void fs_close(file_store *fs)
{
	if (!fs)
		return;
	if (fs->fd >= 0)
		close(fs->fd);
	fs_streams_clear(fs);
	free(fs->st);
	free(fs->slots);
	free(fs->dir);
	free(fs);
}

static int fs_open_journal(file_store *fs)
{
	char path[4096];
	struct stat sb;
	bool fresh;

	if (mkdir(fs->dir, 0777) && errno != EEXIST)
		return fs_err(fs, QUOTA_ESTORE, "%s: %s", fs->dir,
			      strerror(errno));
	fs_path(fs, "journal", path, sizeof path);
	fresh = stat(path, &sb) != 0;
	if (fs->fd >= 0)
		close(fs->fd);
	fs->fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0666);
	if (fs->fd < 0)
		return fs_err(fs, QUOTA_ESTORE, "%s: %s", path, strerror(errno));
	/* A new journal's name must be durable too. */
	if (fresh && !(fs->flags & FS_NO_FSYNC) && fs_sync_dir(fs))
		return fs_err(fs, QUOTA_ESTORE, "%s: fsync: %s", fs->dir,
			      strerror(errno));
	return QUOTA_OK;
}

/*
 * Recover the directory's state into ctx, a new context, and make the
 * store ctx's store (quota_ctx_set_store).  QUOTA_ECORRUPT: a damaged
 * record that is not a torn tail, a damaged snapshot file, or a record
 * the library refuses; nothing on disk is changed then.  QUOTA_ESTORE: an
 * I/O error.  fs_errmsg says what and where.
 */
static int fs_recover(file_store *fs, quota_ctx *ctx)
{
	quota_store st = QUOTA_STORE_INIT;
	fs_image im;
	int rc;

	fs->broken = true; /* until recovered */
	if ((rc = fs_open_journal(fs)))
		return rc;
	if ((rc = fs_load(fs, &im)) || (rc = fs_apply(fs, ctx, &im)) ||
	    (rc = fs_cut_tail(fs, &im))) {
		fs_image_free(&im);
		return rc;
	}
	fs->end = im.valid_end;
	fs->cfg_acked = fs->st[0].seq;
	fs_image_free(&im);
	st.ud = fs;
	st.append = fs_cb_append;
	st.begin = fs_cb_begin;
	st.commit = fs_cb_commit;
	if ((rc = quota_ctx_set_store(ctx, &st)))
		return fs_err(fs, rc, "quota_ctx_set_store: %s",
			      quota_errmsg(ctx));
	fs->broken = false;
	fs->in_batch = false;
	return QUOTA_OK;
}

/*
 * After an unknown outcome: open the journal again and read it as
 * recovery does (a torn tail is cut), without touching any context; the
 * store accepts appends again.  Then re-synchronise what was unknown.
 */
static int fs_reopen(file_store *fs)
{
	fs_image im;
	int rc;

	fs->broken = true;
	if ((rc = fs_open_journal(fs)))
		return rc;
	if (!(rc = fs_load(fs, &im)) && !(rc = fs_cut_tail(fs, &im))) {
		fs->end = im.valid_end;
		fs->broken = false;
		fs->in_batch = false;
	}
	fs_image_free(&im);
	return rc;
}

/* The configuration records ctx lacks (after an unknown outcome on the
 * configuration stream and fs_reopen). */
static int fs_resync_config(file_store *fs, quota_ctx *ctx)
{
	fs_image im;
	int rc;

	if (fs->broken)
		return fs_err(fs, QUOTA_ESTORE, "reopen the store first");
	if ((rc = fs_load(fs, &im)))
		goto out;
	for (size_t i = 0; i < im.nfr; i++) {
		const fs_frame *f = &im.fr[i];

		if (f->stream || f->seq <= fs->cfg_acked)
			continue;
		if ((rc = fs_apply_one(fs, ctx, &im, f)))
			goto out;
		fs->cfg_acked = f->seq;
	}
out:
	fs_image_free(&im);
	return rc;
}

/* Apply the records of stream s with sequence numbers above after. */
static int fs_apply_stream(file_store *fs, quota_ctx *ctx, const fs_image *im,
			   uint32_t s, uint64_t after)
{
	int rc;

	for (size_t i = 0; i < im->nfr; i++)
		if (im->fr[i].stream == s && im->fr[i].seq > after &&
		    (rc = fs_apply_one(fs, ctx, im, &im->fr[i])))
			return rc;
	return QUOTA_OK;
}

/* An account rebuilt in a scratch context from the configuration and its
 * records (there is no snapshot of "before its first record"); *snap is
 * malloc'd. */
static int fs_rebuild(file_store *fs, const fs_image *im, uint32_t s,
		      void **snap, size_t *len)
{
	quota_ctx *scratch;
	quota_account *b;
	void *p;
	int rc;

	*snap = NULL;
	if ((rc = quota_ctx_new(&scratch)))
		return fs_err(fs, rc, "quota_ctx_new: %s", quota_strerror(rc));
	for (size_t i = 0; i < im->nfr && !rc; i++)
		if (im->fr[i].stream == 0)
			rc = fs_apply_one(fs, scratch, im, &im->fr[i]);
	if (!rc)
		rc = fs_apply_stream(fs, scratch, im, s, 0);
	if (!rc && ((rc = quota_account_find(scratch, fs->st[s].id, &b)) ||
		    (rc = quota_account_snapshot(b, &p, len))))
		rc = fs_err(fs, rc, "rebuilding '%s': %s", fs->st[s].id,
			    quota_errmsg(scratch));
	if (!rc) {
		/* Copied out: the scratch context's allocator owns p. */
		if ((*snap = malloc(*len)))
			memcpy(*snap, p, *len);
		else
			rc = fs_err(fs, QUOTA_ENOMEM, "out of memory");
		quota_free(scratch, p);
	}
	quota_ctx_free(scratch);
	return rc;
}

/*
 * Bring account id of ctx back to what the journal holds, after an
 * unknown outcome and fs_reopen: quota_account_reset with its snapshot,
 * then its later records (quota_journal_apply).  An account with no
 * snapshot file is reset to its state rebuilt from all its records; one
 * whose creation was unknown (not in ctx) is made from its records.
 * Re-synchronise the configuration first (fs_resync_config).
 */
static int fs_resync_account(file_store *fs, quota_ctx *ctx, const char *id)
{
	quota_account *a = NULL;
	fs_image im;
	uint32_t s;
	int rc;

	if (fs->broken)
		return fs_err(fs, QUOTA_ESTORE, "reopen the store first");
	if ((rc = fs_load(fs, &im)))
		goto out;
	if ((s = fs_stream_find(fs, id)) == FS_NONE || s == 0) {
		rc = fs_err(fs, QUOTA_ENOTFOUND, "no records of account '%s'",
			    id);
		goto out;
	}
	(void)quota_account_find(ctx, id, &a);
	if (!a) {
		rc = fs_apply_stream(fs, ctx, &im, s, 0);
	} else if (fs->st[s].has_snap) {
		const fs_snapfile *sf = NULL;

		for (size_t i = 0; i < im.nsn; i++)
			if (im.sn[i].stream == s)
				sf = &im.sn[i];
		if ((rc = quota_account_reset(a, sf->snap, sf->len)))
			rc = fs_err(fs, rc, "quota_account_reset: %s",
				    quota_errmsg(ctx));
		else
			rc = fs_apply_stream(fs, ctx, &im, s,
					     fs->st[s].snap_seq);
	} else {
		void *snap;
		size_t len;

		if (!(rc = fs_rebuild(fs, &im, s, &snap, &len))) {
			if ((rc = quota_account_reset(a, snap, len)))
				rc = fs_err(fs, rc, "quota_account_reset: %s",
					    quota_errmsg(ctx));
			free(snap);
		}
	}
out:
	fs_image_free(&im);
	return rc;
}

/* Write one snapshot file durably: temp file, fsync, rename. */
static int fs_write_snap(file_store *fs, uint32_t index, const char *id,
			 const void *snap, size_t n, uint64_t seq)
{
	char tmp[4096], path[4096], name[32];
	size_t k = strlen(id), len = FS_SNAP_HEAD + k + n + 4;
	uint8_t *b = malloc(len);
	int fd, rc = QUOTA_OK;

	if (index > 99999999u) {
		free(b);
		return fs_err(fs, QUOTA_EOVERFLOW, "more than 10^8 accounts");
	}
	if (!b)
		return fs_err(fs, QUOTA_ENOMEM, "out of memory");
	memcpy(b, FS_SNAP_MAGIC, 8); /* with its NUL */
	fs_put32(b + 8, FS_SNAP_VERSION);
	fs_put32(b + 12, (uint32_t)k);
	fs_put64(b + 16, fs->end);
	fs_put64(b + 24, seq);
	fs_put64(b + 32, n);
	memcpy(b + FS_SNAP_HEAD, id, k);
	memcpy(b + FS_SNAP_HEAD + k, snap, n);
	fs_put32(b + len - 4, fs_crc32c(fs, b, len - 4));
	snprintf(name, sizeof name, "snap-%08u.tmp", index);
	fs_path(fs, name, tmp, sizeof tmp);
	name[13] = '\0';
	fs_path(fs, name, path, sizeof path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
	if (fd < 0 || fs_write_fd(fd, b, len) || fsync(fd) || close(fd) ||
	    rename(tmp, path))
		rc = fs_err(fs, QUOTA_ESTORE, "%s: %s", tmp, strerror(errno));
	if (rc && fd >= 0)
		close(fd);
	free(b);
	return rc;
}

/*
 * Snapshot every account of ctx into its file, with the journal length it
 * covers (the journal is fsync'd first, so the offset is durable), then
 * fsync the directory.  Refused while the store is broken.
 */
static int fs_snapshot(file_store *fs, quota_ctx *ctx)
{
	uint32_t n = quota_ctx_account_count(ctx);
	int rc;

	if (fs->broken)
		return fs_err(fs, QUOTA_ESTORE, "reopen the store first");
	if (fs_sync(fs, false)) {
		fs->broken = true;
		return fs_err(fs, QUOTA_EUNKNOWN, "%s/journal: fsync: %s",
			      fs->dir, strerror(errno));
	}
	for (uint32_t i = 0; i < n; i++) {
		quota_account *a = quota_ctx_account_at(ctx, i);
		const char *id = quota_account_id(a);
		uint32_t s = fs_stream_find(fs, id);
		uint64_t seq = 0;
		void *p;
		size_t len;

		if (s == FS_NONE)
			return fs_err(fs, QUOTA_EINVAL,
				      "account '%s' is not in this store", id);
		if ((rc = quota_account_snapshot(a, &p, &len)))
			return fs_err(fs, rc, "quota_account_snapshot: %s",
				      quota_errmsg(ctx));
		/* An account behind its records on disk (an unknown outcome
		 * not yet re-synchronised) would claim records it lacks. */
		if (!fs_snap_seq(p, len, &seq) || seq != fs->st[s].seq) {
			quota_free(ctx, p);
			return fs_err(fs, QUOTA_EUNSYNCED,
				      "account '%s' is at record %llu, the "
				      "journal at %llu: re-synchronise it",
				      id, (unsigned long long)seq,
				      (unsigned long long)fs->st[s].seq);
		}
		rc = fs_write_snap(fs, i, id, p, len, seq);
		quota_free(ctx, p);
		if (rc)
			return rc;
		fs->st[s].has_snap = true;
		fs->st[s].snap_seq = fs->st[s].seq;
		fs->st[s].snap_off = fs->end;
	}
	if (fs_sync_dir(fs))
		return fs_err(fs, QUOTA_ESTORE, "%s: fsync: %s", fs->dir,
			      strerror(errno));
	return QUOTA_OK;
}

#endif /* FILE_STORE_H */
