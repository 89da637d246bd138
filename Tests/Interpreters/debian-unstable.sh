#!/usr/bin/env bash
# Builds a Debian unstable root filesystem holding the CPythons this
# machine's own Debian does not ship (3.13 to 3.15, free-threaded and debug
# builds where Debian has them), for the interpreter tests. The root lives
# outside the clone (PYROGRAPH_INTERPRETERS, default
# /var/cache/pyrograph/debian-unstable) and is built once: later calls only
# check it. Packages come from the mirror this machine's apt sources name.
# Processes run in it with `chroot ROOT pythonX.Y`; pyrograph reads their
# files through /proc/PID/root.
set -euo pipefail

root=${PYROGRAPH_INTERPRETERS:-/var/cache/pyrograph/debian-unstable}
# libpython3.X-dev: the headers the layout tests compile offsetof() against.
packages=(python3.13 python3.14 python3.15 python3.13-nogil python3.14-nogil python3.15-nogil
	python3.14-dbg python3.15-dbg libpython3.14-dev libpython3.15-dev)
stamp="$root/.pyrograph-complete"

if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "${packages[*]}" ]; then
	exit 0
fi

mirror() {
	local uri
	# deb822 sources first, then the one-line format.
	uri=$(awk '/^URIs:/ { print $2; exit }' /etc/apt/sources.list.d/*.sources 2>/dev/null || true)
	if [ -z "$uri" ] && [ -f /etc/apt/sources.list ]; then
		uri=$(awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { print $i; exit } }' /etc/apt/sources.list)
	fi
	[ -n "$uri" ] || { echo "debian-unstable.sh: no Debian mirror in the apt sources" >&2; exit 1; }
	echo "$uri"
}

# A root built for fewer packages gets the missing ones installed.
install() {
	local target=$1 available=() package
	# Some of the packages may not exist in this snapshot of unstable: install
	# those that do, and say which are missing.
	for package in "${packages[@]}"; do
		if chroot "$target" apt-cache show "$package" >/dev/null 2>&1; then
			available+=("$package")
		else
			echo "debian-unstable.sh: $package is not in Debian unstable" >&2
		fi
	done
	chroot "$target" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${available[@]}" \
		>>"$(dirname "$root")/debootstrap.log" 2>&1
	chroot "$target" apt-get clean
}

if [ -f "$stamp" ]; then
	echo "debian-unstable.sh: adding packages to $root" >&2
	install "$root"
	echo "${packages[*]}" > "$stamp"
	exit 0
fi

command -v debootstrap >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
url=$(mirror)
work="$root.partial"
rm -rf "$work"
mkdir -p "$(dirname "$root")"
echo "debian-unstable.sh: building $root from $url (a few minutes, once)" >&2
debootstrap --variant=minbase sid "$work" "$url" >"$(dirname "$root")/debootstrap.log" 2>&1 || {
	echo "debian-unstable.sh: debootstrap failed; see $(dirname "$root")/debootstrap.log" >&2
	exit 1
}
# The mirror may serve unstable as a snapshot whose Release file has
# expired by this machine's clock; its signatures are still checked.
echo 'Acquire::Check-Valid-Until "false";' > "$work/etc/apt/apt.conf.d/99pyrograph-snapshot"
chroot "$work" apt-get update -qq >>"$(dirname "$root")/debootstrap.log" 2>&1
install "$work"
rm -rf "$root"
mv "$work" "$root"
echo "${packages[*]}" > "$stamp"
