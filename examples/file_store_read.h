/*
 * file_store_read.h - the file store's reading side (DESIGN §5): the
 * journal and the snapshot files read back and checked (fs_scan,
 * fs_read_snaps, fs_load: steps 1-3 of the recovery described at the top
 * of file_store.h, the "top" the comments below mean), a torn tail cut
 * away (fs_cut_tail) and what was read applied to a new context
 * (fs_apply_one, fs_apply: steps 4-6).  fs_recover, fs_reopen and the
 * re-synchronisation in file_store.h are built on these.
 *
 * Included only by file_store.h, at the place this code stood there, so
 * that an includer gets the same functions (all static) in the same
 * order; it uses file_store.h's includes, types (file_store, fs_image,
 * fs_frame, fs_snapfile, fs_stream) and helpers and streams before that
 * point, and is not a header to include elsewhere.
 */
#ifndef FILE_STORE_READ_H
#define FILE_STORE_READ_H

static void fs_image_free(fs_image *im)
{
	for (size_t i = 0; i < im->nsn; i++)
		free(im->sn[i].buf);
	free(im->sn);
	free(im->fr);
	free(im->j);
	memset(im, 0, sizeof *im);
}

/* A complete frame whose CRC-32C matches its body starts at p. */
static bool fs_frame_ok(const file_store *fs, const uint8_t *p, size_t avail,
			size_t *size)
{
	if (quota_journal_size(p, avail, size) != QUOTA_OK)
		return false;
	return fs_le32(p + 4) == fs_crc32c(fs, p + 8, *size - 8);
}

static bool fs_uv(const uint8_t *b, size_t n, size_t *pos, uint64_t *v)
{
	*v = 0;
	for (unsigned shift = 0; shift < 64; shift += 7) {
		if (*pos >= n)
			return false;
		*v |= (uint64_t)(b[*pos] & 0x7F) << shift;
		if (!(b[(*pos)++] & 0x80))
			return true;
	}
	return false;
}

/* The sequence number a snapshot holds (quota_account_snapshot(3):
 * a 14-byte header "QSNP", then the id and the sequence number). */
static bool fs_snap_seq(const uint8_t *p, size_t n, uint64_t *seq)
{
	size_t pos = 14;
	uint64_t k;

	if (n < 14 || memcmp(p, "QSNP", 4) || !fs_uv(p, n, &pos, &k) ||
	    k > n - pos)
		return false;
	pos += (size_t)k;
	return fs_uv(p, n, &pos, seq);
}

/* The stream and sequence number of a record (quota_journal(5) header:
 * major, minor, op, varint seq, varint-length account id). */
static int fs_rec_header(file_store *fs, const uint8_t *body, size_t n,
			 uint64_t off, char *id, uint64_t *seq)
{
	size_t pos = 3;
	uint64_t k;

	if (n < 3 || body[0] == 0)
		return fs_err(fs, QUOTA_ECORRUPT,
			      "journal: record at offset %llu: bad header",
			      (unsigned long long)off);
	if (body[0] > 1)
		return fs_err(fs, QUOTA_EVERSION,
			      "journal: record at offset %llu: format %u",
			      (unsigned long long)off, body[0]);
	if (!fs_uv(body, n, &pos, seq) || *seq == 0 ||
	    !fs_uv(body, n, &pos, &k) || k > QUOTA_ID_MAX || n - pos < k ||
	    memchr(body + pos, 0, (size_t)k))
		return fs_err(fs, QUOTA_ECORRUPT,
			      "journal: record at offset %llu: bad header",
			      (unsigned long long)off);
	memcpy(id, body + pos, (size_t)k);
	id[k] = '\0';
	return QUOTA_OK;
}

/* Check every frame of the journal; find a torn tail (see the top). */
static int fs_scan(file_store *fs, fs_image *im)
{
	size_t off = 0, cap = 0;

	while (off < im->jlen) {
		char id[QUOTA_ID_MAX + 1];
		size_t sz;
		uint64_t seq = 0;
		uint32_t s;
		int rc;

		if (!fs_frame_ok(fs, im->j + off, im->jlen - off, &sz)) {
			for (size_t q = off + 1; q < im->jlen; q++)
				if (fs_frame_ok(fs, im->j + q, im->jlen - q, &sz))
					return fs_err(fs, QUOTA_ECORRUPT,
						      "journal: the record at "
						      "offset %zu is damaged and "
						      "a valid record follows at "
						      "offset %zu",
						      off, q);
			break; /* a torn tail */
		}
		if ((rc = fs_rec_header(fs, im->j + off + 8, sz - 8, off, id,
					&seq)))
			return rc;
		if ((s = fs_stream_get(fs, id)) == FS_NONE)
			return fs_err(fs, QUOTA_ENOMEM, "out of memory");
		if (seq != fs->st[s].seq + 1)
			return fs_err(fs, QUOTA_ECORRUPT,
				      "journal: record at offset %zu is %llu "
				      "of %s%s%s, after %llu",
				      off, (unsigned long long)seq,
				      id[0] ? "account '" : "the configuration",
				      id, id[0] ? "'" : "",
				      (unsigned long long)fs->st[s].seq);
		fs->st[s].seq = seq;
		if (im->nfr == cap) {
			fs_frame *n;

			cap = cap ? 2 * cap : 256;
			if (!(n = realloc(im->fr, cap * sizeof *n)))
				return fs_err(fs, QUOTA_ENOMEM, "out of memory");
			im->fr = n;
		}
		im->fr[im->nfr++] = (fs_frame){off, sz, s, seq};
		off += sz;
	}
	im->valid_end = off;
	return QUOTA_OK;
}

static int fs_cmp_snap(const void *x, const void *y)
{
	const fs_snapfile *p = x, *q = y;

	return p->index < q->index ? -1 : p->index > q->index;
}

/* Read and check one snapshot file; attach it to its account's stream. */
static int fs_read_snap(file_store *fs, fs_image *im, fs_snapfile *sf,
			const char *name)
{
	char path[4096], id[QUOTA_ID_MAX + 1];
	uint64_t off, seq, n, inner;
	uint32_t k, s;
	size_t len;
	fs_stream *t;
	int fd = open(fs_path(fs, name, path, sizeof path),
		      O_RDONLY | O_CLOEXEC);

	if (fd < 0 || fs_read_file(fd, &sf->buf, &len)) {
		int e = errno;

		if (fd >= 0)
			close(fd);
		return fs_err(fs, QUOTA_ESTORE, "%s: %s", path, strerror(e));
	}
	close(fd);
	if (len < FS_SNAP_HEAD + 4 || memcmp(sf->buf, FS_SNAP_MAGIC, 8))
		return fs_err(fs, QUOTA_ECORRUPT, "%s: not a snapshot file",
			      path);
	if (fs_le32(sf->buf + len - 4) != fs_crc32c(fs, sf->buf, len - 4))
		return fs_err(fs, QUOTA_ECORRUPT, "%s: checksum mismatch", path);
	if (fs_le32(sf->buf + 8) != FS_SNAP_VERSION)
		return fs_err(fs, QUOTA_EVERSION, "%s: format version %u", path,
			      (unsigned)fs_le32(sf->buf + 8));
	k = fs_le32(sf->buf + 12);
	off = fs_le64(sf->buf + 16);
	seq = fs_le64(sf->buf + 24);
	n = fs_le64(sf->buf + 32);
	if (k == 0 || k > QUOTA_ID_MAX || n > len ||
	    (uint64_t)FS_SNAP_HEAD + k + n + 4 != len ||
	    memchr(sf->buf + FS_SNAP_HEAD, 0, k) || seq == 0)
		return fs_err(fs, QUOTA_ECORRUPT, "%s: bad header", path);
	memcpy(id, sf->buf + FS_SNAP_HEAD, k);
	id[k] = '\0';
	sf->snap = sf->buf + FS_SNAP_HEAD + k;
	sf->len = (size_t)n;
	if (!fs_snap_seq(sf->snap, sf->len, &inner) || inner != seq)
		return fs_err(fs, QUOTA_ECORRUPT,
			      "%s: the snapshot is not of record %llu", path,
			      (unsigned long long)seq);
	s = fs_stream_find(fs, id);
	if (s == FS_NONE || s == 0)
		return fs_err(fs, QUOTA_ECORRUPT,
			      "%s: account '%s' has no records in the journal",
			      path, id);
	t = &fs->st[s];
	if (t->has_snap)
		return fs_err(fs, QUOTA_ECORRUPT,
			      "%s: a second snapshot of account '%s'", path, id);
	if (off > im->valid_end || seq > t->seq)
		return fs_err(fs, QUOTA_ECORRUPT,
			      "%s: covers the journal to offset %llu, record "
			      "%llu of '%s'; the journal holds %zu bytes, "
			      "record %llu",
			      path, (unsigned long long)off,
			      (unsigned long long)seq, id, im->valid_end,
			      (unsigned long long)t->seq);
	sf->stream = s;
	t->has_snap = true;
	t->snap_seq = seq;
	t->snap_off = off;
	return QUOTA_OK;
}

static int fs_read_snaps(file_store *fs, fs_image *im)
{
	DIR *d = opendir(fs->dir);
	struct dirent *e;
	size_t cap = 0;
	int rc = QUOTA_OK;

	if (!d)
		return fs_err(fs, QUOTA_ESTORE, "%s: %s", fs->dir,
			      strerror(errno));
	while ((e = readdir(d))) {
		unsigned idx;

		/* Not snap-NNNNNNNN.tmp either: a round that did not finish. */
		if (strlen(e->d_name) != 13 || strncmp(e->d_name, "snap-", 5) ||
		    strspn(e->d_name + 5, "0123456789") != 8)
			continue;
		idx = (unsigned)strtoul(e->d_name + 5, NULL, 10);
		if (im->nsn == cap) {
			fs_snapfile *n;

			cap = cap ? 2 * cap : 16;
			if (!(n = realloc(im->sn, cap * sizeof *n))) {
				rc = fs_err(fs, QUOTA_ENOMEM, "out of memory");
				break;
			}
			im->sn = n;
		}
		memset(&im->sn[im->nsn], 0, sizeof im->sn[0]);
		im->sn[im->nsn++].index = idx;
	}
	closedir(d);
	if (rc)
		return rc;
	if (im->nsn > 1)
		qsort(im->sn, im->nsn, sizeof *im->sn, fs_cmp_snap);
	for (size_t i = 0; i < im->nsn; i++) {
		char name[32];

		snprintf(name, sizeof name, "snap-%08u", im->sn[i].index);
		if ((rc = fs_read_snap(fs, im, &im->sn[i], name)))
			return rc;
	}
	/* The records a snapshot covers are exactly those before its
	 * offset. */
	for (size_t i = 0; i < im->nfr; i++) {
		const fs_frame *f = &im->fr[i];
		const fs_stream *t = &fs->st[f->stream];

		if (t->has_snap && (f->off < t->snap_off) != (f->seq <= t->snap_seq))
			return fs_err(fs, QUOTA_ECORRUPT,
				      "journal: record %llu of '%s' at offset "
				      "%llu disagrees with its snapshot (record "
				      "%llu, offset %llu)",
				      (unsigned long long)f->seq, t->id,
				      (unsigned long long)f->off,
				      (unsigned long long)t->snap_seq,
				      (unsigned long long)t->snap_off);
	}
	return QUOTA_OK;
}

/*
 * Read the journal and the snapshot files and check them (steps 1-3 of
 * recovery); the streams are rebuilt from what is on disk.  Changes no
 * file.
 */
static int fs_load(file_store *fs, fs_image *im)
{
	int rc;

	memset(im, 0, sizeof *im);
	fs_streams_clear(fs);
	if (fs_stream_get(fs, "") != 0)
		return fs_err(fs, QUOTA_ENOMEM, "out of memory");
	if (fs_read_file(fs->fd, &im->j, &im->jlen))
		return fs_err(fs, QUOTA_ESTORE, "%s/journal: %s", fs->dir,
			      strerror(errno));
	if ((rc = fs_scan(fs, im)) || (rc = fs_read_snaps(fs, im)))
		return rc;
	return QUOTA_OK;
}

/* Cut a torn tail away (durably, unless FS_NO_FSYNC). */
static int fs_cut_tail(file_store *fs, const fs_image *im)
{
	fs->torn = im->jlen - im->valid_end;
	if (!fs->torn)
		return QUOTA_OK;
	if (ftruncate(fs->fd, (off_t)im->valid_end) ||
	    (!(fs->flags & FS_NO_FSYNC) && fsync(fs->fd)))
		return fs_err(fs, QUOTA_ESTORE, "%s/journal: cutting the torn "
			      "tail: %s", fs->dir, strerror(errno));
	return QUOTA_OK;
}

static int fs_apply_one(file_store *fs, quota_ctx *ctx, const fs_image *im,
			const fs_frame *f)
{
	int rc = quota_journal_apply(ctx, im->j + f->off, f->len, 0);

	if (rc == QUOTA_OK)
		return QUOTA_OK;
	return fs_err(fs,
		      rc == QUOTA_ENOMEM || rc == QUOTA_EVERSION ? rc
								 : QUOTA_ECORRUPT,
		      "journal: record %llu of %s%s%s at offset %llu: %s: %s",
		      (unsigned long long)f->seq,
		      f->stream ? "'" : "the configuration",
		      fs->st[f->stream].id, f->stream ? "'" : "",
		      (unsigned long long)f->off, quota_err_name(rc),
		      quota_errmsg(ctx));
}

/* Steps 4-6 of recovery: configuration, snapshots, account records. */
static int fs_apply(file_store *fs, quota_ctx *ctx, const fs_image *im)
{
	quota_account *a;
	int rc;

	for (size_t i = 0; i < im->nfr; i++)
		if (im->fr[i].stream == 0 &&
		    (rc = fs_apply_one(fs, ctx, im, &im->fr[i])))
			return rc;
	for (size_t i = 0; i < im->nsn; i++) {
		const fs_snapfile *sf = &im->sn[i];

		rc = quota_account_load(ctx, sf->snap, sf->len, &a);
		if (!rc && strcmp(quota_account_id(a), fs->st[sf->stream].id))
			rc = QUOTA_ECORRUPT;
		if (rc)
			return fs_err(fs,
				      rc == QUOTA_ENOMEM || rc == QUOTA_EVERSION
					      ? rc
					      : QUOTA_ECORRUPT,
				      "snap-%08u: %s: %s", sf->index,
				      quota_err_name(rc), quota_errmsg(ctx));
	}
	for (size_t i = 0; i < im->nfr; i++) {
		const fs_frame *f = &im->fr[i];
		const fs_stream *t = &fs->st[f->stream];

		if (f->stream == 0 || (t->has_snap && f->seq <= t->snap_seq))
			continue;
		if ((rc = fs_apply_one(fs, ctx, im, f)))
			return rc;
	}
	return QUOTA_OK;
}

#endif /* FILE_STORE_READ_H */
