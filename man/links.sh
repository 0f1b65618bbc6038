#!/bin/sh
# links.sh [-w DIR] MANDIR
#
# The link pages of the manual: every name a page lists in its NAME section
# (the .Nm lines before .Nd) other than the page's own gets a page of one
# line, ".so manS/PAGE.S", so that `man NAME` finds the page that
# documents it (quota_account_find -> quota_account_new.3).
#
# Why .so pages and not symbolic links: man-db and mandoc both read them
# (each resolves the path from the top of the manual tree it searches), a
# packager's compression of pages (gzip) keeps them working, and they need
# nothing but a file copy to install.
#
# Without -w, prints "SECTION NAME PAGE" for each link, PAGE without its
# section suffix.  With -w DIR, writes DIR/manS/NAME.S for each link.
# The list comes from the pages themselves, so a page that gains a
# function in NAME gains its link; nothing is kept by hand.
# Exits 1, saying why, if a link would replace a page of MANDIR or if two
# pages list the same name in one section.
set -u

out=
if [ "${1:-}" = -w ]; then
	[ $# -ge 2 ] || { echo "usage: $0 [-w DIR] MANDIR" >&2; exit 2; }
	out=$2
	shift 2
fi
if [ $# -ne 1 ] || [ ! -d "$1" ]; then
	echo "usage: $0 [-w DIR] MANDIR" >&2
	exit 2
fi
mandir=$1

list=$(
	for page in "$mandir"/*.[1-9]; do
		[ -e "$page" ] || continue
		base=${page##*/}
		sec=${base##*.}
		name=${base%.*}
		awk -v sec="$sec" -v page="$name" '
			/^\.Sh[ \t]+NAME([ \t]|$)/ { inname = 1; next }
			inname && /^\.(Nd|Sh)([ \t]|$)/ { exit }
			inname && /^\.Nm[ \t]/ && $2 != page { print sec, $2, page }
		' "$page"
	done | sort -u
) || exit 2

st=0
dups=$(printf '%s\n' "$list" | awk 'NF { print $1, $2 }' | uniq -d)
if [ -n "$dups" ]; then
	printf '%s\n' "$dups" | while read -r sec name; do
		echo "links.sh: $name($sec) is in the NAME section of two pages" >&2
	done
	st=1
fi
printf '%s\n' "$list" | while read -r sec name page; do
	[ -n "$sec" ] || continue
	if [ -e "$mandir/$name.$sec" ]; then
		echo "links.sh: $name($sec): a link to $page.$sec would replace $mandir/$name.$sec" >&2
		exit 1
	fi
done || st=1
[ $st -eq 0 ] || exit 1

if [ -z "$out" ]; then
	[ -n "$list" ] && printf '%s\n' "$list"
	exit 0
fi
printf '%s\n' "$list" | while read -r sec name page; do
	[ -n "$sec" ] || continue
	mkdir -p "$out/man$sec" || exit 1
	printf '.so man%s/%s.%s\n' "$sec" "$page" "$sec" >"$out/man$sec/$name.$sec" &&
		chmod 644 "$out/man$sec/$name.$sec" || exit 1
done
