#!/bin/sh
# SPDX-License-Identifier: MIT
# tests/ci/spdx.sh: every source file says its licence (LICENSE, MIT) on an
# SPDX-License-Identifier line near its top. Prints those that do not; exit 1 if any.
cd "$(dirname "$0")/../.."
missing=$(
	{
		find src tests examples man debian apache-conf lighttpd-conf nginx-conf \
			-type f \( -name '*.c' -o -name '*.h' -o -name '*.py' -o -name '*.sh' \
			-o -name '*.html' -o -name '*.conf' -o -name '*.in' -o -name '*.service' \
			-o -name '*.socket' -o -name rules \) 2>/dev/null
		echo Makefile; echo .ci/run
	} | sort | while read -r f; do
		head -3 "$f" | grep -q 'SPDX-License-Identifier: MIT' || echo "$f"
	done
)
[ -z "$missing" ] && exit 0
echo "no SPDX-License-Identifier line in the first three lines of:"
echo "$missing" | sed 's/^/  /'
exit 1
