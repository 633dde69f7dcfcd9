/*
 * driver: run a libFuzzer-style target without libFuzzer, for make check.
 *
 * Usage: fuzz_NAME [-n COUNT] [-s SEED] [-m MAXLEN] [-i INDEX -w FILE] [FILE|DIR...]
 *
 * Runs the target over every file given (a directory: every regular file
 * in it, in name order; none given: $top_srcdir/test/fuzz/corpus/NAME),
 * then over COUNT (default 20000) inputs made from those by simple
 * mutations drawn from a seeded generator, so a run is reproducible.
 * Prints TAP.  "-i INDEX -w FILE" writes generated input INDEX to FILE
 * instead, to replay a failure under a debugger or libFuzzer.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "roam/log.h"
#include "fuzz.h"

#ifndef FUZZ_TOP_SRCDIR
#define FUZZ_TOP_SRCDIR "."
#endif

struct input {
	uint8_t	*data;
	size_t	 len;
};

struct corpus {
	struct input	*in;
	size_t		 n;
};

static const char *fuzz_name = "fuzz";
static uint64_t fuzz_seed = 1;
static volatile long fuzz_current = -1;		/* generated input being run, -1: corpus */

/* Byte strings that text formats care about, for insertions. */
static const char *const fuzz_tokens[] = {
	"\n", "\r\n", "\0", " ", "/", "*", "**", "***", "?", "[", "]", "[!", "[^",
	"\\", "-", "+ ", "- ", "!", "#", ";", ":", "_", ",", "[:alpha:]", "[:",
	":]", "a-z", "merge ", "P ", "\xc3\xa9", "\xff", "..", "=",
};

/* splitmix64: small, fast, good enough to pick mutations. */
static uint64_t
rnd(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* A number in [0, n); n must be > 0. */
static size_t
rnd_below(uint64_t *state, size_t n)
{
	return (size_t)(rnd(state) % n);
}

/* Print which input was running when the process died. */
static void
fuzz_report_death(void)
{
	char line[256];
	int n;

	if (fuzz_current < 0)
		n = snprintf(line, sizeof line, "# %s died on a corpus file\n", fuzz_name);
	else
		n = snprintf(line, sizeof line,
		    "# %s died on generated input %ld: save it with -s %llu -i %ld -w FILE\n",
		    fuzz_name, fuzz_current, (unsigned long long)fuzz_seed, fuzz_current);
	if (n > 0 && write(STDOUT_FILENO, line, (size_t)n) < 0)
		_exit(1);
}

/* Signal handler: report, then die of the same signal. */
static void
fuzz_on_signal(int sig)
{
	fuzz_report_death();
	signal(sig, SIG_DFL);
	raise(sig);
}

extern void __sanitizer_set_death_callback(void (*)(void)) __attribute__((weak));

/* Arrange for a crash to name the input; sanitizers have their own hook. */
static void
fuzz_catch_deaths(void)
{
	static const int sigs[] = { SIGSEGV, SIGBUS, SIGABRT, SIGFPE, SIGILL };
	size_t i;

	if (__sanitizer_set_death_callback != NULL) {
		__sanitizer_set_death_callback(fuzz_report_death);
		return;
	}
	for (i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
		signal(sigs[i], fuzz_on_signal);
}

/* Append one input of at most maxlen bytes read from path. */
static int
corpus_add_file(struct corpus *c, const char *path, size_t maxlen)
{
	FILE *f;
	uint8_t *buf;
	size_t n;

	if ((f = fopen(path, "rb")) == NULL)
		return -errno;
	if ((buf = malloc(maxlen + 1)) == NULL)
		fatal("out of memory");
	n = fread(buf, 1, maxlen, f);
	fclose(f);
	if ((c->in = realloc(c->in, (c->n + 1) * sizeof *c->in)) == NULL)
		fatal("out of memory");
	c->in[c->n].data = buf;
	c->in[c->n].len = n;
	c->n++;
	return 0;
}

/* Order names for qsort. */
static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Append every regular file of a directory, in name order. */
static int
corpus_add_dir(struct corpus *c, const char *dir, size_t maxlen)
{
	char **names = NULL, path[4096];
	size_t n = 0, i;
	struct dirent *de;
	struct stat st;
	DIR *d;

	if ((d = opendir(dir)) == NULL)
		return -errno;
	while ((de = readdir(d)) != NULL) {
		snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
		if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
			continue;
		if ((names = realloc(names, (n + 1) * sizeof *names)) == NULL ||
		    (names[n++] = strdup(de->d_name)) == NULL)
			fatal("out of memory");
	}
	closedir(d);
	if (n > 0)
		qsort(names, n, sizeof *names, cmp_names);
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof path, "%s/%s", dir, names[i]);
		corpus_add_file(c, path, maxlen);
		free(names[i]);
	}
	free(names);
	return 0;
}

/* Append a file or a directory's files. */
static int
corpus_add(struct corpus *c, const char *path, size_t maxlen)
{
	struct stat st;

	if (stat(path, &st) != 0)
		return -errno;
	if (S_ISDIR(st.st_mode))
		return corpus_add_dir(c, path, maxlen);
	return corpus_add_file(c, path, maxlen);
}

/* Insert len bytes at pos of buf (room for maxlen), clipping at maxlen. */
static void
buf_insert(uint8_t *buf, size_t *n, size_t maxlen, size_t pos, const void *src, size_t len)
{
	if (len > maxlen - *n)
		len = maxlen - *n;
	memmove(buf + pos + len, buf + pos, *n - pos);
	memcpy(buf + pos, src, len);
	*n += len;
}

/* Apply one random mutation to buf[0..*n), which has room for maxlen bytes. */
static void
mutate_once(uint64_t *st, const struct corpus *c, uint8_t *buf, size_t *n, size_t maxlen)
{
	const struct input *other;
	size_t pos = rnd_below(st, *n + 1), len;
	const char *tok;
	uint8_t byte;

	switch (rnd_below(st, 8)) {
	case 0:	/* flip a bit */
		if (*n > 0)
			buf[pos % *n] ^= (uint8_t)(1u << rnd_below(st, 8));
		break;
	case 1:	/* insert a random byte */
		byte = (uint8_t)rnd(st);
		buf_insert(buf, n, maxlen, pos, &byte, 1);
		break;
	case 2:	/* insert a token */
		tok = fuzz_tokens[rnd_below(st, sizeof fuzz_tokens / sizeof fuzz_tokens[0])];
		buf_insert(buf, n, maxlen, pos, tok, tok[0] == '\0' ? 1 : strlen(tok));
		break;
	case 3:	/* delete a range */
		len = rnd_below(st, *n - pos + 1);
		memmove(buf + pos, buf + pos + len, *n - pos - len);
		*n -= len;
		break;
	case 4:	/* duplicate a range of the input itself */
		if (*n > 0) {
			size_t from = rnd_below(st, *n);
			uint8_t tmp[256];

			len = rnd_below(st, *n - from < sizeof tmp ? *n - from + 1 : sizeof tmp);
			memcpy(tmp, buf + from, len);
			buf_insert(buf, n, maxlen, pos, tmp, len);
		}
		break;
	case 5:	/* splice: keep our head, take another input's tail */
		other = &c->in[rnd_below(st, c->n)];
		len = rnd_below(st, other->len + 1);
		*n = pos;
		buf_insert(buf, n, maxlen, pos, other->data + len, other->len - len);
		break;
	case 6:	/* overwrite a byte with a printable one */
		if (*n > 0)
			buf[pos % *n] = (uint8_t)(' ' + rnd_below(st, 95));
		break;
	default: /* truncate */
		*n = pos;
		break;
	}
}

/* Make generated input number idx into buf; returns its length. */
static size_t
make_input(const struct corpus *c, long idx, uint8_t *buf, size_t maxlen)
{
	uint64_t st = fuzz_seed * 0x100000001b3ULL + (uint64_t)idx;
	const struct input *base;
	size_t n, k, rounds;

	rnd(&st);
	base = &c->in[rnd_below(&st, c->n)];
	n = base->len < maxlen ? base->len : maxlen;
	memcpy(buf, base->data, n);
	rounds = 1 + rnd_below(&st, 8);
	for (k = 0; k < rounds; k++)
		mutate_once(&st, c, buf, &n, maxlen);
	return n;
}

/* Run the target on a private copy, so reads past the end are caught. */
static void
run_one(const uint8_t *data, size_t len)
{
	uint8_t *copy = malloc(len ? len : 1);

	if (copy == NULL)
		fatal("out of memory");
	memcpy(copy, data, len);
	LLVMFuzzerTestOneInput(copy, len);
	free(copy);
}

/* Write generated input idx to path. */
static int
save_input(const struct corpus *c, long idx, const char *path, size_t maxlen)
{
	uint8_t *buf = malloc(maxlen + 1);
	size_t n;
	FILE *f;

	if (buf == NULL)
		fatal("out of memory");
	n = make_input(c, idx, buf, maxlen);
	if ((f = fopen(path, "wb")) == NULL || fwrite(buf, 1, n, f) != n || fclose(f) != 0) {
		log_err("cannot write %s: %s", path, strerror(errno));
		free(buf);
		return 1;
	}
	free(buf);
	return 0;
}

/* The default corpus: $top_srcdir/test/fuzz/corpus/NAME without "fuzz_". */
static int
corpus_default(struct corpus *c, size_t maxlen)
{
	const char *top = getenv("top_srcdir"), *name = fuzz_name;
	char path[4096];

	if (strncmp(name, "fuzz_", 5) == 0)
		name += 5;
	snprintf(path, sizeof path, "%s/test/fuzz/corpus/%s", top ? top : FUZZ_TOP_SRCDIR, name);
	return corpus_add(c, path, maxlen);
}

static void
usage(void)
{
	fprintf(stderr, "usage: %s [-n COUNT] [-s SEED] [-m MAXLEN] [-i INDEX -w FILE] [FILE|DIR...]\n",
	    fuzz_name);
	exit(2);
}

int
main(int argc, char **argv)
{
	struct corpus c = { NULL, 0 };
	long count = 20000, idx, save_idx = -1;
	size_t maxlen = 8192, i, n;
	const char *save_path = NULL;
	uint8_t *buf;
	int ch, ret = 0;

	fuzz_name = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
	log_init(fuzz_name, 0, 0);
	while ((ch = getopt(argc, argv, "n:s:m:i:w:")) != -1) {
		switch (ch) {
		case 'n': count = atol(optarg); break;
		case 's': fuzz_seed = strtoull(optarg, NULL, 0); break;
		case 'm': maxlen = (size_t)atol(optarg); break;
		case 'i': save_idx = atol(optarg); break;
		case 'w': save_path = optarg; break;
		default: usage();
		}
	}
	if (maxlen == 0 || count < 0 || (save_idx >= 0) != (save_path != NULL))
		usage();
	for (; optind < argc && ret == 0; optind++)
		ret = corpus_add(&c, argv[optind], maxlen);
	if (ret == 0 && c.n == 0)
		ret = corpus_default(&c, maxlen);
	if (ret != 0 || c.n == 0) {
		printf("Bail out! %s: no corpus to start from (%s): give files or directories\n",
		    fuzz_name, ret ? strerror(-ret) : "empty");
		return 1;
	}
	if (save_path != NULL)
		return save_input(&c, save_idx, save_path, maxlen);
	fuzz_catch_deaths();
	for (i = 0; i < c.n; i++)
		run_one(c.in[i].data, c.in[i].len);
	printf("ok 1 - %s: %zu corpus inputs\n", fuzz_name, c.n);
	fflush(stdout);
	if ((buf = malloc(maxlen + 1)) == NULL)
		fatal("out of memory");
	for (idx = 0; idx < count; idx++) {
		fuzz_current = idx;
		n = make_input(&c, idx, buf, maxlen);
		run_one(buf, n);
	}
	fuzz_current = -1;
	printf("ok 2 - %s: %ld inputs\n1..2\n", fuzz_name, count);
	free(buf);
	for (i = 0; i < c.n; i++)
		free(c.in[i].data);
	free(c.in);
	return 0;
}
