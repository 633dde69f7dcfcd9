#!/bin/sh
# The cases of t5001 with the inotify backend (a watch per directory).
AW_BACKEND=inotify
export AW_BACKEND
exec sh "$(dirname "$0")/t5001-aclwatch-events.sh"
