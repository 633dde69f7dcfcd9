/*
 * fscrypt-tool: the fscrypt helpers of roamfs (src/roamfs/fscrypt.h) on
 * the command line, for the tests.
 *
 *   fscrypt-tool can DIR            "yes" or "no": the file system can encrypt
 *   fscrypt-tool policy DIR         the key identifier (hex), or "none"
 *   fscrypt-tool encrypt DIR KEY    add KEY (128 hex digits), encrypt the empty
 *                                   DIR with it; prints the identifier
 *   fscrypt-tool add DIR KEY        add KEY; prints the identifier
 *   fscrypt-tool remove DIR ID      remove the key: "removed" or "busy"
 *   fscrypt-tool present DIR ID     "present" or "absent"
 *
 * Errors print "fscrypt-tool: COMMAND: ERROR" and exit 1.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "fscrypt.h"

static int
unhex(const char *s, uint8_t *b, size_t n)
{
	size_t i;
	unsigned v;

	if (strlen(s) != 2 * n)
		return -1;
	for (i = 0; i < n; i++) {
		if (sscanf(s + 2 * i, "%2x", &v) != 1)
			return -1;
		b[i] = (uint8_t)v;
	}
	return 0;
}

static void
print_hex(const uint8_t *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		printf("%02x", b[i]);
	putchar('\n');
}

static int
fail(const char *cmd, int err)
{
	fprintf(stderr, "fscrypt-tool: %s: %s\n", cmd, strerror(-err));
	return 1;
}

int
main(int argc, char **argv)
{
	uint8_t key[64], id[FSCRYPT_ID_SIZE];
	const char *cmd;
	int fd, r;

	if (argc < 3) {
		fprintf(stderr, "usage: fscrypt-tool can|policy|encrypt|add|remove|present DIR [ARG]\n");
		return 2;
	}
	cmd = argv[1];
	if ((fd = open(argv[2], O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return fail(cmd, -errno);
	if (strcmp(cmd, "can") == 0) {
		if ((r = fscrypt_can(fd)) < 0)
			return fail(cmd, r);
		puts(r ? "yes" : "no");
	} else if (strcmp(cmd, "policy") == 0) {
		if ((r = fscrypt_policy_of(fd, id)) < 0)
			return fail(cmd, r);
		if (r)
			print_hex(id, sizeof id);
		else
			puts("none");
	} else if ((strcmp(cmd, "encrypt") == 0 || strcmp(cmd, "add") == 0) && argc == 4) {
		if (unhex(argv[3], key, sizeof key) < 0)
			return fail(cmd, -EINVAL);
		if ((r = fscrypt_add_key(fd, key, id)) < 0 ||
		    (cmd[0] == 'e' && (r = fscrypt_set_policy(fd, id)) < 0))
			return fail(cmd, r);
		print_hex(id, sizeof id);
	} else if ((strcmp(cmd, "remove") == 0 || strcmp(cmd, "present") == 0) && argc == 4) {
		if (unhex(argv[3], id, sizeof id) < 0)
			return fail(cmd, -EINVAL);
		if (cmd[0] == 'r') {
			if ((r = fscrypt_remove_key(fd, id)) < 0)
				return fail(cmd, r);
			puts(r ? "busy" : "removed");
		} else {
			if ((r = fscrypt_key_present(fd, id)) < 0)
				return fail(cmd, r);
			puts(r ? "present" : "absent");
		}
	} else {
		fprintf(stderr, "fscrypt-tool: unknown command or arguments: %s\n", cmd);
		return 2;
	}
	close(fd);
	return 0;
}
