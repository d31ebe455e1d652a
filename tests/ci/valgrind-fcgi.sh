#!/bin/sh
# SPDX-License-Identifier: MIT
# tests/ci/valgrind-fcgi.sh: r2mpu under valgrind memcheck as a web server's FastCGI
# program (the server's bin-path), so that one process serves many requests and
# valgrind starts once per process, not once per request as in CGI mode.
#
#   R2MPU_VALGRIND_BIN   the r2mpu binary
#   R2MPU_VALGRIND_LOGS  a directory: one log per process, vg.PID.log, which stays
#                        empty unless valgrind finds an error or a definite leak
#                        (checked when the process exits: tests/lib/memcheck.py)
#
# The listening socket the server hands over on fd 0 stays there.
# The options are tests/lib/memcheck.py's OPTIONS.
exec valgrind --quiet --leak-check=full --errors-for-leak-kinds=definite,indirect \
	--show-leak-kinds=definite,indirect --track-fds=no \
	--log-file="$R2MPU_VALGRIND_LOGS/vg.%p.log" "$R2MPU_VALGRIND_BIN" "$@"
