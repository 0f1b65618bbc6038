#!/bin/sh
# tzif_seeds.sh DIR - the TZif decoder's seed corpus (R26): real files from
# the system's tz database (Debian's tzdata), each also cut short at a few
# places and with a byte flipped in its header, its data and its footer;
# and small hand-made files (footer-only rules, a version 1 file).
set -e
out=${1:?usage: tzif_seeds.sh DIR}
zi=/usr/share/zoneinfo
rm -rf "$out"
mkdir -p "$out"
for z in Europe/Berlin America/Santiago Australia/Lord_Howe Asia/Kolkata \
	 Pacific/Apia Europe/Dublin Etc/UTC Antarctica/Troll; do
	f=$zi/$z
	[ -e "$f" ] || { echo "missing $f (install tzdata)" >&2; exit 1; }
	b=$(echo "$z" | tr '/+' '__')
	cp "$f" "$out/$b"
	n=$(wc -c < "$f")
	for cut in 44 $((n / 2)) $((n - 1)); do
		head -c "$cut" "$f" > "$out/$b.cut$cut"
	done
	# one byte changed: the version, a count, a transition, the footer
	for at in 4 $((n / 3)) $((n - 5)); do
		{ head -c "$at" "$f"; printf 'Z'; tail -c +$((at + 2)) "$f"; } \
			> "$out/$b.flip$at"
	done
done
# Hand-made: version 2 files of one type and no transitions, the rule in
# the footer (printf octal escapes; counts big-endian).
mk() { # name utoff-bytes footer
	{
		for blk in 1 2; do
			printf 'TZif2\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0'
			printf '\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\1\0\0\0\4'
			printf "$2"
			printf '\0\0CET\0'
		done
		printf '\n%s\n' "$3"
	} > "$out/$1"
}
mk rule-berlin '\0\0\16\20' 'CET-1CEST,M3.5.0,M10.5.0/3'
mk rule-southern '\0\0\16\20' 'AEST-10AEDT,M10.1.0,M4.1.0/3'
mk rule-alldst '\0\0\16\20' 'EST5EDT,0/0,J365/25'
mk rule-v3-hours '\0\0\16\20' '<-03>3<-02>,M3.2.0/-2,M11.1.0/-1'
mk rule-default '\0\0\16\20' 'EST5EDT'
mk rule-none '\0\0\16\20' ''
mk rule-bad '\0\0\16\20' 'CET-1CEST,M13.5.0,M10.5.0/3'
mk rule-far '\0\1\30\140' 'XXX-20'
# A version 1 file: the first block of Berlin's, version byte 0.
python3 - "$zi/Europe/Berlin" "$out/v1-berlin" <<'PY'
import struct, sys
b = open(sys.argv[1], 'rb').read()
cnt = struct.unpack('>6l', b[20:44])
isut, isstd, leap, time, typ, char = cnt
size = 44 + time * 5 + typ * 6 + char + leap * 8 + isstd + isut
v1 = bytearray(b[:size])
v1[4] = 0
open(sys.argv[2], 'wb').write(bytes(v1))
PY
