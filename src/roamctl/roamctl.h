/*
 * roamctl: the helpers of roamctl.c that its commands in other files
 * (gc.c) share.  Output goes to standard output.
 */
#ifndef ROAMCTL_ROAMCTL_H
#define ROAMCTL_ROAMCTL_H

#include <stdint.h>

/* Whether a roamfs answers on the control socket of the cache dir (also
 * one that is hung, or belongs to another user). */
int is_running(const char *dir);
/* Print s as a JSON string; bytes that are not UTF-8 become U+FFFD. */
void json_str(const char *s);
/* Print a size: "512 B", "1.5 MiB". */
void print_bytes(uint64_t n);
/* Print a time (seconds since 1970) as local "YYYY-MM-DD HH:MM:SS", "?" for 0. */
void print_time(int64_t t);

#endif
