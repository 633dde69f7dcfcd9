#!/bin/sh
# Install what roamfs needs to build, test and run its demo on Debian 12.
set -e
PKGS="build-essential autoconf automake libtool pkg-config
  libfuse3-dev fuse3 libssh-dev liblmdb-dev lmdb-utils libacl1-dev acl attr
  openssh-server openssh-client openssh-sftp-server sshfs rsync tar python3
  man-db groff-base inotify-tools procps passwd util-linux bsdextrautils strace
  libpam-mount libpam-mount-bin pamtester git sqlite3 gdb libargon2-dev libssl-dev"
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "deps.sh: missing packages:$missing; run this script as root to install them" >&2
		exit 1
	fi
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
