/*
 * exclude: parse an rsync-style exclusion list and decide whether a path of
 * the home is local-only.
 *
 * Each pattern is compiled into a token array (byte, '?', class, '*', "**")
 * and matched by simulating the automaton over a bit set of token
 * positions, which costs pattern length times path length at worst, never
 * exponential time.  Which part of the path a rule sees (last component,
 * trailing components, whole path) follows rsync's rule_matches().
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "roam/log.h"
#include "exclude.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif

/* rsync discards longer lines (MAXPATHLEN); so do we, loudly. */
#define EXCLUDE_LINE_MAX	4095
/* A list larger than this is certainly not an exclusion list. */
#define EXCLUDE_FILE_MAX	(4 * 1024 * 1024)
#define EXCLUDE_WORDS		((EXCLUDE_LINE_MAX + 1 + 63) / 64)

enum tok_kind { TOK_BYTE, TOK_ANY, TOK_CLASS, TOK_STAR, TOK_STAR2 };

struct tok {
	uint8_t		 kind;
	uint8_t		 byte;		/* TOK_BYTE */
	uint32_t	 cls;		/* TOK_CLASS: index in rule->classes */
};

struct rule {
	int		 include;	/* "+ " rule */
	int		 anchored;	/* leading '/' */
	int		 dir_only;	/* trailing '/' */
	int		 wild2;		/* pattern holds "**" */
	int		 wild2_prefix;	/* pattern starts with "**" */
	int		 wild3_suffix;	/* pattern ends with "***" */
	int		 slash_cnt;	/* '/' in the pattern, leading one included */
	struct tok	*toks;
	size_t		 ntoks;
	uint8_t		(*classes)[32];	/* 256-bit sets, '/' never set */
	size_t		 nclasses;
};

struct exclude {
	struct rule	*rules;
	size_t		 nrules, cap;
};

/* Where the text a rule is matched against may start. */
enum where { WHERE_START, WHERE_ANY_SLASH, WHERE_LAST_N };

/* Parse context: the current line for error messages. */
struct pctx {
	const char	*name;
	unsigned	 line;
	char		*reason;	/* malloc'd, first error only */
};

/* Record the reason a line is refused. */
static int __attribute__((format(printf, 2, 3)))
perr(struct pctx *pc, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	if (pc->reason != NULL)
		return -EINVAL;
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		fatal("out of memory");
	va_end(ap);
	if (asprintf(&pc->reason, "%s:%u: %s", pc->name, pc->line, msg) < 0)
		fatal("out of memory");
	free(msg);
	return -EINVAL;
}

/* realloc or die. */
static void *
xrealloc(void *p, size_t n, size_t size)
{
	if (size != 0 && n > SIZE_MAX / size)
		fatal("out of memory");
	if ((p = realloc(p, n * size != 0 ? n * size : 1)) == NULL)
		fatal("out of memory");
	return p;
}

/* Whether byte c belongs to the named POSIX class (ASCII only); -1 if unknown. */
static int
class_has(const char *cls, size_t len, int c)
{
	static const struct { const char *name; int (*fn)(int); } tab[] = {
		{ "alnum", isalnum }, { "alpha", isalpha }, { "blank", isblank },
		{ "cntrl", iscntrl }, { "digit", isdigit }, { "graph", isgraph },
		{ "lower", islower }, { "print", isprint }, { "punct", ispunct },
		{ "space", isspace }, { "upper", isupper }, { "xdigit", isxdigit },
	};
	size_t i;

	for (i = 0; i < sizeof tab / sizeof tab[0]; i++) {
		if (strlen(tab[i].name) == len && memcmp(tab[i].name, cls, len) == 0)
			return c < 128 && tab[i].fn(c) ? 1 : 0;
	}
	return -1;
}

/* Set the bits of bytes lo..hi in a class set. */
static void
set_range(uint8_t *set, int lo, int hi)
{
	int c;

	for (c = lo; c <= hi; c++)
		set[c >> 3] |= (uint8_t)(1u << (c & 7));
}

/* Parse a "[:name:]" inside a class at *pp ('[' then ':'); 1 if it was one, 0 if literal. */
static int
parse_posix_class(struct pctx *pc, const unsigned char **pp, uint8_t *set, int *err)
{
	const unsigned char *s = *pp + 2, *e = s;
	int c;

	while (*e != '\0' && *e != ']')
		e++;
	if (*e == '\0') {
		*err = perr(pc, "unterminated character class '[': close it with ']' or escape the '[' with a backslash");
		return 1;
	}
	if (e - s < 1 || e[-1] != ':')
		return 0;	/* not "[:name:]": the '[' is an ordinary member */
	if (class_has((const char *)s, (size_t)(e - s - 1), 'a') < 0) {
		*err = perr(pc, "unknown character class '[:%.*s:]': use alnum, alpha, blank, cntrl, digit, graph, lower, print, punct, space, upper or xdigit",
		    (int)(e - s - 1), s);
		return 1;
	}
	for (c = 0; c < 256; c++) {
		if (class_has((const char *)s, (size_t)(e - s - 1), c) == 1)
			set_range(set, c, c);
	}
	*pp = e;
	return 1;
}

/* Parse "[...]" at *pp into set (negation applied, '/' cleared); *pp ends on ']'. */
static int
parse_class(struct pctx *pc, const unsigned char **pp, uint8_t *set)
{
	const unsigned char *p = *pp + 1;
	int negate = 0, prev = 0, c = *p, err = 0, i;

	if (c == '!' || c == '^') {
		negate = 1;
		c = *++p;
	}
	do {
		if (c == '\0')
			return perr(pc, "unterminated character class '[': close it with ']' or escape the '[' with a backslash");
		if (c == '\\') {
			if ((c = *++p) == '\0')
				return perr(pc, "pattern ends with a lone backslash inside '[...]'");
			set_range(set, c, c);
		} else if (c == '-' && prev != 0 && p[1] != '\0' && p[1] != ']') {
			c = *++p;
			if (c == '\\' && (c = *++p) == '\0')
				return perr(pc, "pattern ends with a lone backslash inside '[...]'");
			if (prev <= c)
				set_range(set, prev, c);
			c = 0;
		} else if (c == '[' && p[1] == ':' && parse_posix_class(pc, &p, set, &err)) {
			if (err != 0)
				return err;
			c = 0;
		} else
			set_range(set, c, c);
		prev = c;
		c = *++p;
	} while (c != ']');
	if (negate) {
		for (i = 0; i < 32; i++)
			set[i] = (uint8_t)~set[i];
	}
	set['/' >> 3] &= (uint8_t)~(1u << ('/' & 7));
	*pp = p;
	return 0;
}

/* Append a token to a rule (compile_rule made room for one per pattern byte). */
static void
add_tok(struct rule *r, enum tok_kind kind, int byte, size_t cls)
{
	r->toks[r->ntoks].kind = (uint8_t)kind;
	r->toks[r->ntoks].byte = (uint8_t)byte;
	r->toks[r->ntoks].cls = (uint32_t)cls;
	r->ntoks++;
}

/* Compile a wildcard pattern (rsync's wildmatch syntax) into tokens. */
static int
compile_wild(struct pctx *pc, struct rule *r, const unsigned char *p)
{
	int ret;

	for (; *p != '\0'; p++) {
		if (*p == '*') {
			add_tok(r, p[1] == '*' ? TOK_STAR2 : TOK_STAR, 0, 0);
			while (p[1] == '*')
				p++;
		} else if (*p == '?')
			add_tok(r, TOK_ANY, 0, 0);
		else if (*p == '[') {
			r->classes = xrealloc(r->classes, r->nclasses + 1, sizeof *r->classes);
			memset(r->classes[r->nclasses], 0, sizeof r->classes[0]);
			if ((ret = parse_class(pc, &p, r->classes[r->nclasses])) != 0)
				return ret;
			add_tok(r, TOK_CLASS, 0, r->nclasses++);
		} else if (*p == '\\') {
			if (p[1] == '\0')
				return perr(pc, "pattern ends with a lone backslash: remove it or escape it as '\\\\'");
			add_tok(r, TOK_BYTE, *++p, 0);
		} else
			add_tok(r, TOK_BYTE, *p, 0);
	}
	return 0;
}

/* Set a rule's flags the way rsync's add_rule() does, then compile it. */
static int
compile_rule(struct pctx *pc, struct rule *r, char *pat, size_t len)
{
	const char *s;

	if (len > 1 && pat[len - 1] == '/') {
		pat[--len] = '\0';
		r->dir_only = 1;
	}
	for (s = pat; (s = strchr(s, '/')) != NULL; s++)
		r->slash_cnt++;
	if ((s = strstr(pat, "**")) != NULL) {
		r->wild2 = 1;
		r->wild2_prefix = s == pat;
		r->wild3_suffix = len >= 3 && strcmp(pat + len - 3, "***") == 0;
	}
	if (pat[0] == '/') {
		r->anchored = 1;
		pat++;
	}
	r->toks = xrealloc(NULL, strlen(pat) + 1, sizeof *r->toks);
	if (strpbrk(pat, "*[?") != NULL)
		return compile_wild(pc, r, (const unsigned char *)pat);
	for (s = pat; *s != '\0'; s++)
		add_tok(r, TOK_BYTE, (unsigned char)*s, 0);
	return 0;
}

/* Refuse filter-rule syntax rsync would take as a literal name here. */
static int
check_prefix(struct pctx *pc, const char *line)
{
	static const char *const words[] = { "merge", "dir-merge", "exclude",
	    "include", "hide", "show", "protect", "risk", "clear" };
	size_t i, n;
	const char *p;

	if (strcmp(line, "!") == 0)
		return perr(pc, "the '!' rule (clear the list) is not supported: delete the lines above it instead");
	for (i = 0; i < sizeof words / sizeof words[0]; i++) {
		n = strlen(words[i]);
		if (strncmp(line, words[i], n) == 0 && line[n] != '\0' &&
		    strchr(" ,_", line[n]) != NULL)
			return perr(pc, "rsync filter rule '%s' is not supported in an exclusion list: write plain patterns, optionally after '- ' or '+ '",
			    words[i]);
	}
	if (strchr(".:PRHS-+", line[0]) == NULL || line[0] == '\0')
		return 0;
	for (p = line + 1; *p != '\0' && strchr("/!Csrpxnwe", *p) != NULL; p++)
		;
	if ((*p == ' ' || *p == '_') && (p > line + 1 || strchr(".:PRHS", line[0]) != NULL))
		return perr(pc, "rsync filter rule '%.*s' is not supported in an exclusion list: use '- PATTERN' or '+ PATTERN' (write '[%c]' for a name that starts with '%c')",
		    (int)(p - line), line, line[0], line[0]);
	return 0;
}

/* Parse one non-comment line into a new rule of ex. */
static int
parse_line(struct pctx *pc, struct exclude *ex, const char *line, size_t len)
{
	struct rule r;
	char *pat;
	int ret;

	memset(&r, 0, sizeof r);
	if (memchr(line, '\0', len) != NULL)
		return perr(pc, "line holds a NUL byte: is this a text file?");
	if (len > EXCLUDE_LINE_MAX)
		return perr(pc, "line longer than %d bytes (rsync would drop it): shorten the pattern with wildcards",
		    EXCLUDE_LINE_MAX);
	if ((pat = strndup(line, len)) == NULL)
		fatal("out of memory");
	if ((ret = check_prefix(pc, pat)) != 0)
		goto out;
	if ((pat[0] == '-' || pat[0] == '+') && pat[1] == ' ') {
		r.include = pat[0] == '+';
		memmove(pat, pat + 2, len - 1);
		len -= 2;
	}
	if (len == 0) {
		ret = perr(pc, "'%c ' is followed by no pattern", r.include ? '+' : '-');
		goto out;
	}
	if ((ret = compile_rule(pc, &r, pat, len)) != 0) {
		free(r.toks);
		free(r.classes);
		goto out;
	}
	if (ex->nrules == ex->cap) {
		ex->cap = ex->cap ? ex->cap * 2 : 16;
		ex->rules = xrealloc(ex->rules, ex->cap, sizeof *ex->rules);
	}
	ex->rules[ex->nrules++] = r;
out:
	free(pat);
	return ret;
}

int
exclude_parse(const char *text, size_t len, const char *name,
    struct exclude **out, char **cause)
{
	struct pctx pc = { name != NULL ? name : "(exclusion list)", 1, NULL };
	struct exclude *ex;
	size_t i, start = 0;
	int ret = 0;

	if ((ex = calloc(1, sizeof *ex)) == NULL)
		fatal("out of memory");
	for (i = 0; i <= len && ret == 0; i++) {
		if (i < len && text[i] != '\n' && text[i] != '\r')
			continue;
		/* Like rsync, '\r' ends a line too, so CRLF files work. */
		if (i > start && text[start] != '#' && text[start] != ';')
			ret = parse_line(&pc, ex, text + start, i - start);
		if (i < len && text[i] == '\n')
			pc.line++;
		start = i + 1;
	}
	if (ret != 0) {
		exclude_free(ex);
		if (cause != NULL)
			*cause = pc.reason;
		else
			free(pc.reason);
		return ret;
	}
	*out = ex;
	return 0;
}

/* Read a whole file of at most EXCLUDE_FILE_MAX bytes. */
static int
read_file(const char *path, char **data, size_t *len)
{
	char *buf = NULL;
	size_t n = 0, cap = 0;
	ssize_t got;
	int fd, ret = 0;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -errno;
	for (;;) {
		if (n == cap) {
			cap = cap ? cap * 2 : 8192;
			buf = xrealloc(buf, cap, 1);
		}
		if ((got = read(fd, buf + n, cap - n)) < 0) {
			if (errno == EINTR)
				continue;
			ret = -errno;
			break;
		}
		if (got == 0)
			break;
		if ((n += (size_t)got) > EXCLUDE_FILE_MAX) {
			ret = -EFBIG;
			break;
		}
	}
	close(fd);
	if (ret != 0) {
		free(buf);
		return ret;
	}
	*data = buf;
	*len = n;
	return 0;
}

int
exclude_load(const char *path, struct exclude **out, char **cause)
{
	char *data = NULL;
	size_t len = 0;
	int ret;

	if ((ret = read_file(path, &data, &len)) != 0) {
		if (cause != NULL && ret == -EFBIG &&
		    asprintf(cause, "%s: larger than %d bytes, which no exclusion list is: name the right file",
		    path, EXCLUDE_FILE_MAX) < 0)
			fatal("out of memory");
		if (cause != NULL && ret != -EFBIG &&
		    asprintf(cause, "cannot read exclusion list %s: %s; create it, fix its permissions or name another file with -o exclude=FILE",
		    path, strerror(-ret)) < 0)
			fatal("out of memory");
		return ret;
	}
	ret = exclude_parse(data, len, path, out, cause);
	free(data);
	return ret;
}

const char *
exclude_default_path(void)
{
	static const char local[] = SYSCONFDIR "/roamfs/exclude.local";
	static const char shipped[] = SYSCONFDIR "/roamfs/exclude";

	if (access(local, F_OK) == 0)
		return local;
	if (access(shipped, F_OK) == 0)
		return shipped;
	return NULL;
}

/* Whether class set cls holds byte c. */
static int
class_match(const uint8_t *cls, unsigned char c)
{
	return (cls[c >> 3] >> (c & 7)) & 1;
}

/* Add the states reachable without input: a star may match nothing. */
static void
nfa_close(const struct rule *r, uint64_t *set)
{
	size_t i;

	for (i = 0; i < r->ntoks; i++) {
		if ((set[i / 64] >> (i % 64) & 1) &&
		    (r->toks[i].kind == TOK_STAR || r->toks[i].kind == TOK_STAR2))
			set[(i + 1) / 64] |= 1ULL << ((i + 1) % 64);
	}
}

/* Advance the state set cur over byte c into next. */
static void
nfa_step(const struct rule *r, const uint64_t *cur, uint64_t *next, unsigned char c)
{
	size_t w, i, nw = r->ntoks / 64 + 1;
	uint64_t bits;
	const struct tok *t;
	int adv;

	memset(next, 0, nw * sizeof *next);
	for (w = 0; w < nw; w++) {
		for (bits = cur[w]; bits != 0; bits &= bits - 1) {
			i = w * 64 + (size_t)__builtin_ctzll(bits);
			if (i >= r->ntoks)
				break;
			t = &r->toks[i];
			adv = 0;
			switch (t->kind) {
			case TOK_BYTE:	adv = c == t->byte; break;
			case TOK_ANY:	adv = c != '/'; break;
			case TOK_CLASS:	adv = class_match(r->classes[t->cls], c); break;
			case TOK_STAR:	if (c != '/') next[w] |= 1ULL << (i % 64); break;
			case TOK_STAR2:	next[w] |= 1ULL << (i % 64); break;
			}
			if (adv)
				next[(i + 1) / 64] |= 1ULL << ((i + 1) % 64);
		}
	}
}

/* Whether the rule's tokens match text[0..len), starting at 0 or, with any_slash, after any '/' too. */
static int
nfa_match(const struct rule *r, const char *text, size_t len, int any_slash)
{
	uint64_t a[EXCLUDE_WORDS], b[EXCLUDE_WORDS], *cur = a, *next = b, *tmp;
	size_t i, nw = r->ntoks / 64 + 1, w;
	uint64_t live;

	memset(cur, 0, nw * sizeof *cur);
	cur[0] = 1;
	nfa_close(r, cur);
	for (i = 0; i < len; i++) {
		nfa_step(r, cur, next, (unsigned char)text[i]);
		if (any_slash && text[i] == '/')
			next[0] |= 1;
		nfa_close(r, next);
		for (live = 0, w = 0; w < nw; w++)
			live |= next[w];
		if (live == 0 && !any_slash)
			return 0;
		tmp = cur, cur = next, next = tmp;
	}
	return (cur[r->ntoks / 64] >> (r->ntoks % 64)) & 1;
}

/* Start of the last n '/'-separated components of text[0..len), or NULL if fewer. */
static const char *
last_components(const char *text, size_t len, int n)
{
	size_t i = len;

	while (i > 0) {
		if (text[--i] == '/' && --n == 0)
			return text + i + 1;
	}
	return n == 1 ? text : NULL;
}

/* Whether rule r matches one path (no ancestors considered); buf has room for len + 2. */
static int
rule_matches(const struct rule *r, const char *path, size_t len, int is_dir, char *buf)
{
	const char *text = path, *s;
	size_t tlen = len;

	if (r->dir_only && !is_dir)
		return 0;
	if (r->slash_cnt == 0 && !r->wild2) {
		if ((s = memrchr(path, '/', len)) != NULL) {
			tlen = len - (size_t)(s + 1 - path);
			text = s + 1;
		}
		return nfa_match(r, text, tlen, 0);
	}
	if (r->wild2_prefix || (r->wild3_suffix && is_dir)) {
		/* A leading "**" may match a leading slash; a trailing slash and "***" the directory itself. */
		tlen = 0;
		if (r->wild2_prefix)
			buf[tlen++] = '/';
		memcpy(buf + tlen, path, len);
		tlen += len;
		if (r->wild3_suffix && is_dir)
			buf[tlen++] = '/';
		text = buf;
	}
	if (r->anchored || r->wild2_prefix)
		return nfa_match(r, text, tlen, 0);
	if (r->wild2)
		return nfa_match(r, text, tlen, 1);
	if ((s = last_components(text, tlen, r->slash_cnt + 1)) == NULL)
		return 0;
	return nfa_match(r, s, tlen - (size_t)(s - text), 0);
}

/* 1 if the first rule matching path[0..len) excludes it, 0 if none or an include does. */
static int
exclude_one(const struct exclude *ex, const char *path, size_t len, int is_dir, char *buf)
{
	size_t i;

	for (i = 0; i < ex->nrules; i++) {
		if (rule_matches(&ex->rules[i], path, len, is_dir, buf))
			return !ex->rules[i].include;
	}
	return 0;
}

int
exclude_match(const struct exclude *ex, const char *relpath, int is_dir)
{
	char stackbuf[1024], *buf = stackbuf;
	size_t len, i;
	int ret = 0;

	while (*relpath == '/')
		relpath++;
	len = strlen(relpath);
	if (len == 0 || ex == NULL || ex->nrules == 0)
		return 0;
	if (len + 2 > sizeof stackbuf && (buf = malloc(len + 2)) == NULL)
		fatal("out of memory");
	/* rsync never descends into an excluded directory: test each ancestor. */
	for (i = 1; i < len && ret == 0; i++) {
		if (relpath[i] == '/' && relpath[i - 1] != '/')
			ret = exclude_one(ex, relpath, i, 1, buf);
	}
	if (ret == 0)
		ret = exclude_one(ex, relpath, len, is_dir, buf);
	if (buf != stackbuf)
		free(buf);
	return ret;
}

int
exclude_path(const struct exclude *ex, const char *relpath, int is_dir)
{
	size_t len = strlen(relpath);

	if (!is_dir && len > 4 && strcmp(relpath + len - 4, "-shm") == 0 &&
	    relpath[len - 5] != '/')
		return 1;
	return exclude_match(ex, relpath, is_dir);
}

void
exclude_free(struct exclude *ex)
{
	size_t i;

	if (ex == NULL)
		return;
	for (i = 0; i < ex->nrules; i++) {
		free(ex->rules[i].toks);
		free(ex->rules[i].classes);
	}
	free(ex->rules);
	free(ex);
}
