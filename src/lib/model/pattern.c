/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Path and name globs.  Design notes in docs/design/capabilities.md#patterns.
 *
 * Matching is two-level for paths: a `**` segment matches any run of whole segments, and a
 * segment glob matches one segment.  Both levels use the greedy "last star" algorithm, which is
 * O(n*m) in the worst case and never exponential — patterns come from untrusted files.
 */
#include "model/pattern.h"

#include <stdlib.h>
#include <string.h>

#include "basic/macro.h"

static bool is_glob_special(char c)
{
	return c == '*' || c == '?' || c == '\\';
}

/* ---------------------------------------------------------------- normalisation */

bool path_is_normalized(const char *p, size_t len)
{
	if (len == 0 || p[0] != '/')
		return false;
	if (len == 1)
		return true;
	if (p[len - 1] == '/')
		return false;
	for (size_t i = 0; i < len; i++) {
		if (p[i] == '\0')
			return false;
		if (p[i] != '/')
			continue;
		/* p[i] is a separator: look at the segment that follows. */
		size_t n = 0;
		while (i + 1 + n < len && p[i + 1 + n] != '/')
			n++;
		if (n == 0)
			return false; /* "//" */
		if (p[i + 1] == '.' && (n == 1 || (n == 2 && p[i + 2] == '.')))
			return false; /* "/." or "/.." */
	}
	return true;
}

/* Checks the escapes of one pattern segment: a '\' must be followed by a byte in the same
 * segment, since "\/" would make the separator ambiguous. */
static int check_segment_escapes(const char *s, size_t n, const char **msg)
{
	for (size_t i = 0; i < n; i++) {
		if (s[i] != '\\')
			continue;
		if (i + 1 >= n) {
			*msg = "'\\' at the end of a path segment escapes nothing (a '/' cannot be "
			       "escaped)";
			return -EINVAL;
		}
		i++;
	}
	return 0;
}

typedef struct NormState {
	char *buf;
	size_t size, pos;
	bool rooted;
} NormState;

static int norm_append(NormState *st, const char *s, size_t n, bool pattern, const char **msg)
{
	if (n == 0 || (n == 1 && s[0] == '.'))
		return 0;
	if (n == 2 && s[0] == '.' && s[1] == '.') {
		if (st->pos == 0) {
			if (st->rooted)
				return 0; /* "/.." is "/" (POSIX) */
			*msg = "'..' leaves the root the path is relative to";
			return -EINVAL;
		}
		while (st->pos > 0 && st->buf[st->pos - 1] != '/')
			st->pos--;
		if (st->pos > 0)
			st->pos--; /* the separator before the dropped segment */
		return 0;
	}
	if (pattern) {
		int r = check_segment_escapes(s, n, msg);
		if (r < 0)
			return r;
	}
	bool sep = st->rooted || st->pos > 0;
	if (st->pos + sep + n + 1 > st->size) {
		*msg = "path is longer than PATH_MAX";
		return -ENAMETOOLONG;
	}
	if (sep)
		st->buf[st->pos++] = '/';
	memcpy(st->buf + st->pos, s, n);
	st->pos += n;
	return 0;
}

static int norm_append_all(NormState *st, const char *p, size_t len, bool pattern, const char **msg)
{
	size_t i = 0;

	while (i < len) {
		size_t j = i;
		while (j < len && p[j] != '/')
			j++;
		int r = norm_append(st, p + i, j - i, pattern, msg);
		if (r < 0)
			return r;
		i = j + 1;
	}
	return 0;
}

int path_normalize(const char *p, size_t len, const char *base, bool rooted, bool pattern,
                   char *buf, size_t size, const char **msg)
{
	const char *dummy;
	NormState st = {.buf = buf, .size = size, .pos = 0, .rooted = rooted};
	int r;

	if (!msg)
		msg = &dummy;
	if (size < 2) {
		*msg = "buffer too small";
		return -ENAMETOOLONG;
	}
	if (memchr(p, '\0', len)) {
		*msg = "path contains a NUL byte";
		return -EINVAL;
	}
	if (len >= PATTERN_PATH_MAX) {
		*msg = "path is longer than PATH_MAX";
		return -ENAMETOOLONG;
	}
	if (rooted && (len == 0 || p[0] != '/')) {
		if (!base || base[0] != '/') {
			*msg = "relative path but no absolute working directory to resolve it";
			return -EINVAL;
		}
		r = norm_append_all(&st, base, strlen(base), /* pattern= */ false, msg);
		if (r < 0)
			return r;
	}
	r = norm_append_all(&st, p, len, pattern, msg);
	if (r < 0)
		return r;
	if (rooted && st.pos == 0)
		buf[st.pos++] = '/';
	buf[st.pos] = '\0';
	return (int)st.pos;
}

/* ---------------------------------------------------------------- glob compile */

/* Writes the canonical form of the escaped glob P into OUT (at least LEN+1 bytes): escapes
 * are kept only before special characters.  Returns the new length; sets *literal. */
static size_t canonicalize_escapes(const char *p, size_t len, char *out, bool *literal)
{
	size_t o = 0;

	*literal = true;
	for (size_t i = 0; i < len; i++) {
		if (p[i] == '\\' && i + 1 < len) {
			i++;
			if (is_glob_special(p[i]))
				out[o++] = '\\';
			out[o++] = p[i];
			continue;
		}
		if (p[i] == '*' || p[i] == '?')
			*literal = false;
		out[o++] = p[i];
	}
	out[o] = '\0';
	return o;
}

/* Unescapes the literal prefix of the escaped glob P (up to its first wildcard, or up to
 * STOP when the caller knows a better bound) into OUT.  Returns its length. */
static size_t unescape_prefix(const char *p, size_t len, char *out)
{
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		if (p[i] == '*' || p[i] == '?')
			break;
		if (p[i] == '\\' && i + 1 < len)
			i++;
		out[o++] = p[i];
	}
	out[o] = '\0';
	return o;
}

static int glob_alloc_text(Glob *g, const char *p, size_t len)
{
	g->text = malloc(len + 1);
	g->lit = malloc(len + 1);
	if (!g->text || !g->lit) {
		glob_done(g);
		return -ENOMEM;
	}
	g->len = canonicalize_escapes(p, len, g->text, &g->literal);
	return 0;
}

int glob_compile_name(Glob *g, const char *p, size_t len, const char **msg)
{
	*g = (Glob){0};
	if (memchr(p, '\0', len)) {
		*msg = "contains a NUL byte";
		return -EINVAL;
	}
	if (len > 0 && p[len - 1] == '\\') {
		size_t n = 0;
		while (n < len && p[len - 1 - n] == '\\')
			n++;
		if (n % 2 == 1) {
			*msg = "ends with a lone '\\' that escapes nothing";
			return -EINVAL;
		}
	}
	int r = glob_alloc_text(g, p, len);
	if (r < 0)
		return r;
	g->lit_len = unescape_prefix(g->text, g->len, g->lit);
	return 0;
}

static bool segment_is_literal(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (is_glob_special(s[i]))
			return false;
	return true;
}

/* Splits the canonical path glob into segments; `**` must be a whole segment. */
static int glob_split_segments(Glob *g, const char **msg)
{
	size_t start = g->absolute ? 1 : 0, n = 0;

	for (size_t i = start; i < g->len; i++)
		n += g->text[i] == '/';
	n += g->len > start;
	g->segs = calloc(n ? n : 1, sizeof(GlobSeg));
	if (!g->segs)
		return -ENOMEM;
	for (size_t i = start; i < g->len;) {
		size_t j = i;
		while (j < g->len && g->text[j] != '/')
			j++;
		const char *s = g->text + i;
		GlobSeg *seg = &g->segs[g->n_segs++];
		seg->off = (uint32_t)i;
		seg->len = (uint32_t)(j - i);
		seg->globstar = seg->len == 2 && s[0] == '*' && s[1] == '*';
		seg->literal = segment_is_literal(s, seg->len);
		if (!seg->globstar && seg->len >= 2 && memmem(s, seg->len, "**", 2)) {
			/* "a**b" is ambiguous (bash and git disagree): refuse rather than guess. */
			*msg = "'**' must be a whole path segment, as in 'dir/**/file'";
			return -EINVAL;
		}
		i = j + 1;
	}
	return 0;
}

/* The literal prefix for quick rejection: the leading literal segments, without the '/' that
 * precedes a globstar segment, since "/data" followed by a globstar matches "/data" itself. */
static void glob_path_prefix(Glob *g)
{
	size_t end = g->absolute ? 1 : 0;

	for (size_t i = 0; i < g->n_segs && g->segs[i].literal; i++)
		end = g->segs[i].off + g->segs[i].len;
	if (end == 1 && g->absolute && g->n_segs > 0)
		end = 0; /* "/" then a wildcard segment: the prefix "/" adds nothing */
	g->lit_len = unescape_prefix(g->text, end, g->lit);
}

int glob_compile_path(Glob *g, const char *normalized, size_t len, const char **msg)
{
	int r;

	*g = (Glob){0};
	r = glob_alloc_text(g, normalized, len);
	if (r < 0)
		return r;
	g->segmented = true;
	g->absolute = g->len > 0 && g->text[0] == '/';
	r = glob_split_segments(g, msg);
	if (r < 0) {
		glob_done(g);
		return r;
	}
	if (g->literal)
		g->lit_len = unescape_prefix(g->text, g->len, g->lit);
	else
		glob_path_prefix(g);
	return 0;
}

void glob_done(Glob *g)
{
	free(g->text);
	free(g->lit);
	free(g->segs);
	*g = (Glob){0};
}

int glob_copy(Glob *dst, const Glob *src)
{
	*dst = *src;
	dst->text = strdup(src->text);
	dst->lit = malloc(src->len + 1);
	dst->segs =
	    src->segmented ? malloc((src->n_segs ? src->n_segs : 1) * sizeof(GlobSeg)) : NULL;
	if (!dst->text || !dst->lit || (src->segmented && !dst->segs)) {
		glob_done(dst);
		return -ENOMEM;
	}
	memcpy(dst->lit, src->lit, src->lit_len + 1);
	if (src->segmented)
		memcpy(dst->segs, src->segs, src->n_segs * sizeof(GlobSeg));
	return 0;
}

/* ---------------------------------------------------------------- glob match */

bool glob_match_raw(const char *p, size_t plen, const char *s, size_t slen)
{
	size_t pi = 0, si = 0, star_p = SIZE_MAX, star_s = 0;

	while (si < slen) {
		if (pi < plen) {
			char c = p[pi];
			size_t adv = 1;
			if (c == '*') {
				star_p = ++pi;
				star_s = si;
				continue;
			}
			if (c == '?') {
				pi++;
				si++;
				continue;
			}
			if (c == '\\' && pi + 1 < plen) {
				c = p[pi + 1];
				adv = 2;
			}
			if (c == s[si]) {
				pi += adv;
				si++;
				continue;
			}
		}
		if (star_p == SIZE_MAX)
			return false;
		pi = star_p;
		si = ++star_s;
	}
	while (pi < plen && p[pi] == '*')
		pi++;
	return pi == plen;
}

static bool seg_match(const Glob *g, const GlobSeg *seg, const char *s, size_t n)
{
	const char *p = g->text + seg->off;

	if (seg->literal)
		return seg->len == n && memcmp(p, s, n) == 0;
	return glob_match_raw(p, seg->len, s, n);
}

/* Segment-level greedy match: `**` is the star, a segment glob matches exactly one segment. */
static bool glob_match_segments(const Glob *g, const char *s, size_t len)
{
	const char *end = s + len;
	const char *star_s = NULL;
	size_t i = 0, star_i = SIZE_MAX;

	if (g->absolute)
		s++; /* requests are normalised: s[0] == '/' */
	while (s < end) {
		if (i < g->n_segs && g->segs[i].globstar) {
			star_i = i++;
			star_s = s;
			continue;
		}
		const char *e = memchr(s, '/', (size_t)(end - s));
		if (!e)
			e = end;
		if (i < g->n_segs && seg_match(g, &g->segs[i], s, (size_t)(e - s))) {
			i++;
			s = e < end ? e + 1 : end;
			continue;
		}
		if (star_i == SIZE_MAX)
			return false;
		i = star_i + 1;
		const char *e2 = memchr(star_s, '/', (size_t)(end - star_s));
		star_s = e2 ? e2 + 1 : end;
		s = star_s;
	}
	while (i < g->n_segs && g->segs[i].globstar)
		i++;
	return i == g->n_segs;
}

bool glob_match(const Glob *g, const char *s, size_t len)
{
	if (g->literal)
		return len == g->lit_len && memcmp(s, g->lit, len) == 0;
	/* Quick rejection on the literal prefix; its last byte first, since grants of one set
	 * tend to share their first bytes ("/data/project1", "/data/project2"). */
	if (len < g->lit_len || (g->lit_len > 0 && s[g->lit_len - 1] != g->lit[g->lit_len - 1]) ||
	    memcmp(s, g->lit, g->lit_len) != 0)
		return false;
	if (!g->segmented)
		return glob_match_raw(g->text, g->len, s, len);
	if (g->absolute != (len > 0 && s[0] == '/'))
		return false;
	return glob_match_segments(g, s, len);
}

/* ---------------------------------------------------------------- glob subsumption */

enum {
	TOK_ONE = 256,
	TOK_STAR = 257
};

/* Tokenises an escaped glob into OUT (room for LEN ints): bytes, TOK_ONE, TOK_STAR. */
static size_t tokenize(const char *p, size_t len, int *out)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++) {
		if (p[i] == '*') {
			if (n == 0 || out[n - 1] != TOK_STAR)
				out[n++] = TOK_STAR;
		} else if (p[i] == '?') {
			out[n++] = TOK_ONE;
		} else {
			if (p[i] == '\\' && i + 1 < len)
				i++;
			out[n++] = (unsigned char)p[i];
		}
	}
	return n;
}

/* Does token string A cover token string B?  Rolling DP over (i, j), row i+1 in NEXT. */
static bool tokens_cover(const int *a, size_t na, const int *b, size_t nb)
{
	_cleanup_free_ bool *next = calloc(nb + 1, sizeof(bool));
	_cleanup_free_ bool *cur = calloc(nb + 1, sizeof(bool));

	if (!next || !cur)
		return false;
	next[nb] = true; /* i == na: covers only the empty rest */
	for (size_t i = na; i-- > 0;) {
		for (size_t j = nb + 1; j-- > 0;) {
			bool v;
			if (a[i] == TOK_STAR)
				v = next[j] || (j < nb && cur[j + 1]);
			else if (j == nb)
				v = false;
			else if (a[i] == TOK_ONE)
				v = b[j] != TOK_STAR && next[j + 1];
			else
				v = b[j] == a[i] && next[j + 1];
			cur[j] = v;
		}
		bool *t = next;
		next = cur;
		cur = t;
	}
	return next[0];
}

static bool raw_covers(const char *a, size_t alen, const char *b, size_t blen)
{
	_cleanup_free_ int *ta = malloc((alen + 1) * sizeof(int));
	_cleanup_free_ int *tb = malloc((blen + 1) * sizeof(int));

	/* Bound the work: the DP is O(na*nb); a pattern pair this large is refused. */
	if (!ta || !tb || (uint64_t)alen * blen > (1u << 24))
		return false;
	return tokens_cover(ta, tokenize(a, alen, ta), tb, tokenize(b, blen, tb));
}

static bool seg_covers(const Glob *a, const GlobSeg *sa, const Glob *b, const GlobSeg *sb)
{
	return raw_covers(a->text + sa->off, sa->len, b->text + sb->off, sb->len);
}

static bool segments_cover(const Glob *a, const Glob *b)
{
	size_t na = a->n_segs, nb = b->n_segs;
	_cleanup_free_ bool *next = calloc(nb + 1, sizeof(bool));
	_cleanup_free_ bool *cur = calloc(nb + 1, sizeof(bool));

	if (!next || !cur || (uint64_t)na * nb > (1u << 20))
		return false;
	next[nb] = true;
	for (size_t i = na; i-- > 0;) {
		const GlobSeg *sa = &a->segs[i];
		for (size_t j = nb + 1; j-- > 0;) {
			bool v;
			if (sa->globstar)
				v = next[j] || (j < nb && cur[j + 1]);
			else
				v = j < nb && !b->segs[j].globstar && next[j + 1] &&
				    seg_covers(a, sa, b, &b->segs[j]);
			cur[j] = v;
		}
		bool *t = next;
		next = cur;
		cur = t;
	}
	return next[0];
}

bool glob_covers(const Glob *a, const Glob *b)
{
	if (b->literal)
		return glob_match(a, b->lit, b->lit_len);
	if (a->segmented != b->segmented)
		return false;
	if (!a->segmented)
		return raw_covers(a->text, a->len, b->text, b->len);
	if (a->absolute != b->absolute)
		return false;
	return segments_cover(a, b);
}
