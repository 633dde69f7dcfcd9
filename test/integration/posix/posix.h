/*
 * posixsuite: a fixed sequence of POSIX behaviour cases whose normalised
 * transcript is compared between a filesystem under test and a plain
 * directory.  Everything that may legitimately differ between two
 * filesystems (inode and device numbers, absolute times, block counts,
 * numeric owners) is left out or printed relative to a known value.
 */
#ifndef POSIXSUITE_H
#define POSIXSUITE_H

#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

/* One case: runs inside its own fresh, empty working directory. */
struct suite_case {
	const char *name;
	void (*run)(void);
};

/* The case table, in running order (main.c). */
extern const struct suite_case suite_cases[];
extern const size_t suite_ncases;

/* Start a case: print its header and make NAME the prefix of its steps. */
void rep_case(int num, const char *name);
/* Print "case.STEP: ..." ; every step name must be unique in a run. */
void rep(const char *step, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Print "case.STEP: TEXT = RET" or "= -1 ENAME"; returns RET, errno kept. */
long rep_call(const char *step, const char *text, long ret);
/* Like rep_call for a call returning a descriptor: prints "= fd" on success. */
int rep_fd(const char *step, const char *text, int fd);
/* Print "case.STEP: yes" or "no". */
void rep_yes(const char *step, int cond);
/* Print a setup failure (only failures are printed; they are not steps). */
void rep_setup(const char *what, int err);

/* Run a call and print it with its own source text. */
#define CALL(step, expr) rep_call((step), #expr, (long)(expr))
#define OPEN(step, expr) rep_fd((step), #expr, (expr))

/* Symbolic name of an errno value ("EISDIR"), or "E<number>". */
const char *errname(int err);

/* Escape LEN bytes at DATA C-style (\n, \t, \\, \", \xNN for bytes outside
 * printable ASCII) into OUT, truncating to fit OUTSZ. */
void escape_bytes(const void *data, size_t len, char *out, size_t outsz);
/* escape_bytes for a NUL-terminated name. */
void escape_name(const char *name, char *out, size_t outsz);

/* Create PATH (mode 0644) holding DATA; prints a setup line on failure. */
int fix_put(const char *path, const char *data);
/* Print "case.STEP: content "..."" or the open/read error for PATH. */
void fix_show_content(const char *step, const char *path);
/* Print "case.STEP: pread(LEN@OFF) = N "bytes"" or the error. */
void fix_show_pread(const char *step, int fd, size_t len, off_t off);
/* Print "case.STEP: type reg mode 0644 nlink 1 size 3 owner me/me"
 * (or the error) for lstat (FOLLOW == 0) or stat of PATH. */
void fix_show_stat(const char *step, const char *path, int follow);
/* Print the same for an open descriptor. */
void fix_show_fstat(const char *step, int fd);
/* Print the sorted names in directory PATH (without . and ..), escaped. */
void fix_show_listing(const char *step, const char *path);
/* Whether NAME is an entry of directory PATH (1), not (0), or -errno. */
int fix_in_listing(const char *path, const char *name);
/* Fill BUF with the normalised description of ST. */
void fix_describe(const struct stat *st, char *buf, size_t bufsz);

/* The cases, one function each, grouped by file. */
void case_open_excl(void);
void case_open_trunc(void);
void case_open_append(void);
void case_open_flags(void);
void case_open_mode(void);
void case_open_tmpfile(void);
void case_io_offsets(void);
void case_io_sparse(void);
void case_io_big(void);
void case_io_truncate(void);
void case_rename_files(void);
void case_rename_dirs(void);
void case_rename_misc(void);
void case_rename_flags(void);
void case_unlink_open(void);
void case_link_hard(void);
void case_symlink_basic(void);
void case_symlink_dangling(void);
void case_symlink_dir(void);
void case_dir_mkdir(void);
void case_dir_nlink(void);
void case_attr_chmod(void);
void case_attr_chown(void);
void case_attr_utimens(void);
void case_attr_mtime(void);
void case_readdir_changes(void);
void case_names_long(void);
void case_names_odd(void);
void case_mmap_shared(void);
void case_misc_statfs(void);
void case_misc_fsync(void);
void case_misc_access(void);
void case_misc_special(void);
void case_lock_conflict(void);
void case_xattr_user(void);

#endif
