#!/usr/bin/env bash
# scripts/setup.sh - check, and where possible install, the host tools needed
# to build the kernel and run it under qemu-system-aarch64 (-machine virt,mte=on).
#
# Usage: scripts/setup.sh [--check]
#
#   (no flag)  Check everything. Missing Rust targets are added with rustup.
#              Missing system packages are installed with apt-get when run as
#              root on Debian or Ubuntu; otherwise the exact commands to run
#              are printed and the script exits 1.
#   --check    Only check and report; never install anything. Exit 1 if
#              anything required is missing.
#
# Required:
#   - rustup targets aarch64-unknown-none and aarch64-unknown-none-softfloat
#   - qemu-system-aarch64 >= 8.0 (Debian package qemu-system-arm). Older QEMU
#     (Debian 12 ships 7.2) emulates MTE badly enough to fail Linux's MTE
#     selftests; on Debian the <codename>-backports suite is enabled for it.
#     With the distribution's QEMU, also ipxe-qemu: it is only a Recommends of
#     qemu-system-arm, but without its efi-virtio.rom `-machine virt` fails to
#     start ("failed to find romfile") unless given `-nic none`.
#   - aarch64-linux-gnu-gcc, aarch64-linux-gnu-objcopy and a static glibc for
#     aarch64 (gcc-aarch64-linux-gnu, binutils-aarch64-linux-gnu,
#     libc6-dev-arm64-cross)
# Optional (only reported): gdb-multiarch, for `make gdb`.
#
# When everything is present this runs no package manager and no network
# access, and finishes in well under a second.
#
# No mirror host name is written here: the backports source is derived from
# the machine's own apt sources.
set -euo pipefail

readonly QEMU_MIN_MAJOR=8
readonly QEMU_PKG=qemu-system-arm
readonly QEMU_ROM_PKG=ipxe-qemu
readonly QEMU_ROM=/usr/lib/ipxe/qemu/efi-virtio.rom
readonly RUST_TARGETS=(aarch64-unknown-none aarch64-unknown-none-softfloat)
readonly CROSS_PKGS=(gcc-aarch64-linux-gnu binutils-aarch64-linux-gnu libc6-dev-arm64-cross)
readonly CROSS_LIBC=/usr/aarch64-linux-gnu/lib/libc.a
readonly APT_SOURCES_DIR=/etc/apt/sources.list.d
readonly APT_INSTALL=(apt-get install -y --no-install-recommends)

usage() {
    sed -n '2,/^set -euo/{/^#/s/^# \{0,1\}//p}' "$0"
}

check_only=0
for arg in "$@"; do
    case $arg in
        --check) check_only=1 ;;
        -h | --help) usage; exit 0 ;;
        *) echo "setup: unknown argument: $arg" >&2; usage >&2; exit 2 ;;
    esac
done

# Run from the repository root so that a rust-toolchain.toml there, if any,
# selects the same toolchain that the build uses.
cd "$(dirname "${BASH_SOURCE[0]}")/.."

say() { printf 'setup: %s\n' "$*"; }
warn() { printf 'setup: %s\n' "$*" >&2; }

is_root=0
[[ $(id -u) -eq 0 ]] && is_root=1
sudo_prefix=""
((is_root)) || sudo_prefix="sudo "

# ---------------------------------------------------------------------------
# OS detection
os_id="" os_like="" os_codename=""
if [[ -r /etc/os-release ]]; then
    # shellcheck disable=SC1091
    os_id=$(. /etc/os-release && printf '%s' "${ID:-}")
    # shellcheck disable=SC1091
    os_like=$(. /etc/os-release && printf '%s' "${ID_LIKE:-}")
    # shellcheck disable=SC1091
    os_codename=$(. /etc/os-release && printf '%s' "${VERSION_CODENAME:-}")
fi
os_family=other
if command -v apt-get >/dev/null 2>&1; then
    if [[ $os_id == debian ]]; then
        os_family=debian
    elif [[ $os_id == ubuntu || " $os_like " == *" ubuntu "* ]]; then
        os_family=ubuntu
    fi
fi

# ---------------------------------------------------------------------------
# rustup (found on PATH; under sudo, fall back to the invoking user's rustup)
rustup_cmd=()
if command -v rustup >/dev/null 2>&1; then
    rustup_cmd=(rustup)
elif ((is_root)) && [[ -n ${SUDO_USER:-} && $SUDO_USER != root ]]; then
    user_home=$(getent passwd "$SUDO_USER" | cut -d: -f6) || user_home=""
    if [[ -n $user_home && -x $user_home/.cargo/bin/rustup ]]; then
        rustup_cmd=(sudo -u "$SUDO_USER" -H "$user_home/.cargo/bin/rustup")
    fi
fi

# ---------------------------------------------------------------------------
# Checks. Each sets globals; run_checks can be called again after installing.
missing_targets=()
rustup_ok=0
qemu_version="" qemu_ok=0 qemu_rom_ok=1
gcc_version="" cross_ok=0 cross_problems=()

check_rust() {
    missing_targets=()
    rustup_ok=0
    ((${#rustup_cmd[@]})) || return 0
    local installed
    installed=$("${rustup_cmd[@]}" target list --installed 2>/dev/null) || return 0
    rustup_ok=1
    local t
    for t in "${RUST_TARGETS[@]}"; do
        grep -qxF "$t" <<<"$installed" || missing_targets+=("$t")
    done
}

check_qemu() {
    qemu_version="" qemu_ok=0 qemu_rom_ok=1
    local path
    path=$(command -v qemu-system-aarch64) || return 0
    # The distribution's QEMU looks for NIC option ROMs in ipxe-qemu's folder.
    if [[ $path == /usr/bin/qemu-system-aarch64 && $os_family != other && ! -e $QEMU_ROM ]]; then
        qemu_rom_ok=0
    fi
    local out
    out=$(qemu-system-aarch64 --version 2>/dev/null | head -n 1) || out=""
    if [[ $out =~ version\ ([0-9]+)\.([0-9]+)(\.[0-9]+)? ]]; then
        qemu_version=${BASH_REMATCH[1]}.${BASH_REMATCH[2]}${BASH_REMATCH[3]}
        ((BASH_REMATCH[1] >= QEMU_MIN_MAJOR)) && qemu_ok=1
    else
        qemu_version=unknown
    fi
    return 0
}

check_cross() {
    gcc_version="" cross_ok=0 cross_problems=()
    if command -v aarch64-linux-gnu-gcc >/dev/null 2>&1; then
        gcc_version=$(aarch64-linux-gnu-gcc -dumpfullversion 2>/dev/null) || gcc_version=""
        [[ -n $gcc_version ]] || cross_problems+=("aarch64-linux-gnu-gcc does not run")
    else
        cross_problems+=("aarch64-linux-gnu-gcc")
    fi
    command -v aarch64-linux-gnu-objcopy >/dev/null 2>&1 ||
        cross_problems+=("aarch64-linux-gnu-objcopy")
    [[ -f $CROSS_LIBC ]] ||
        cross_problems+=("$CROSS_LIBC (static glibc for aarch64)")
    ((${#cross_problems[@]})) || cross_ok=1
}

run_checks() {
    check_rust
    check_qemu
    check_cross
}

all_ok() {
    ((rustup_ok)) && ((${#missing_targets[@]} == 0)) && ((qemu_ok)) && ((qemu_rom_ok)) && ((cross_ok))
}

ok_line() {
    say "ok (qemu $qemu_version, aarch64-linux-gnu-gcc $gcc_version, rust targets present)"
    command -v gdb-multiarch >/dev/null 2>&1 ||
        say "note: gdb-multiarch is not installed; it is needed only for \`make gdb\` (package gdb-multiarch)"
}

# ---------------------------------------------------------------------------
# apt helpers

# Source files apt reads: the one-line format and deb822.
apt_source_files() {
    local f
    [[ -f /etc/apt/sources.list ]] && printf '%s\n' /etc/apt/sources.list
    for f in "$APT_SOURCES_DIR"/*.list "$APT_SOURCES_DIR"/*.sources; do
        [[ -f $f ]] && printf '%s\n' "$f"
    done
    return 0
}

# find_source SUITE [NEW_SUITE]
# Finds the first enabled binary ("deb") source whose suite list contains
# exactly SUITE. Prints a deb822 stanza for NEW_SUITE (default SUITE) with the
# same URIs, components, architectures and Signed-By. Prints nothing if none.
find_source() {
    local want=$1 new=${2:-$1}
    local files=()
    mapfile -t files < <(apt_source_files)
    ((${#files[@]})) || return 0
    awk -v want="$want" -v new="$new" '
        function trim(s) { sub(/^[ \t]+/, "", s); sub(/[ \t]+$/, "", s); return s }
        function has(list, w,   n, a, i) {
            n = split(list, a, /[ \t\n]+/)
            for (i = 1; i <= n; i++) if (a[i] == w) return 1
            return 0
        }
        function reset() { types = uris = suites = comps = arch = sb = cur = ""; enabled = "yes" }
        function take(u, c, a, s) {
            if (found) return
            found = 1; o_uris = u; o_comps = c; o_arch = a; o_sb = s
        }
        function flush() {
            if (deb822 && uris != "" && has(types, "deb") && has(suites, want) && tolower(enabled) != "no")
                take(uris, comps, arch, sb)
            reset()
        }
        FNR == 1 { flush(); deb822 = (FILENAME ~ /\.sources$/) }
        deb822 && /^#/ { next }
        deb822 && /^[ \t]*$/ { flush(); next }
        deb822 && /^[ \t]/ {
            if (cur == "signed-by") sb = sb "\n" $0
            else if (cur == "types") types = types " " trim($0)
            else if (cur == "uris") uris = uris " " trim($0)
            else if (cur == "suites") suites = suites " " trim($0)
            else if (cur == "components") comps = comps " " trim($0)
            else if (cur == "architectures") arch = arch " " trim($0)
            next
        }
        deb822 {
            i = index($0, ":"); if (!i) next
            cur = tolower(trim(substr($0, 1, i - 1))); v = trim(substr($0, i + 1))
            if (cur == "types") types = v
            else if (cur == "uris") uris = v
            else if (cur == "suites") suites = v
            else if (cur == "components") comps = v
            else if (cur == "architectures") arch = v
            else if (cur == "signed-by") sb = v
            else if (cur == "enabled") enabled = v
            next
        }
        # one-line format: deb [opt=val ...] URI SUITE [COMPONENT...]
        {
            sub(/#.*/, "")
            if ($1 != "deb") next
            i = 2; a = ""; s = ""
            if ($2 ~ /^\[/) {
                for (; i <= NF; i++) {
                    t = $i; last = (t ~ /\]$/)
                    gsub(/[][]/, "", t)
                    if (t ~ /^arch=/) { a = substr(t, 6); gsub(/,/, " ", a) }
                    else if (t ~ /^signed-by=/) { s = substr(t, 11); gsub(/,/, " ", s) }
                    if (last) { i++; break }
                }
            }
            if (i + 1 > NF || $(i + 1) != want) next
            c = ""
            for (j = i + 2; j <= NF; j++) c = c (c == "" ? "" : " ") $j
            take($i, c, a, s)
        }
        END {
            flush()
            if (!found) exit
            print "Types: deb"
            print "URIs: " o_uris
            print "Suites: " new
            if (o_comps != "") print "Components: " o_comps
            if (o_arch != "") print "Architectures: " o_arch
            if (o_sb ~ /^\n/) print "Signed-By:" o_sb
            else if (o_sb != "") print "Signed-By: " o_sb
        }
    ' "${files[@]}"
}

# apt_candidate [apt-cache options...]: the candidate version of $QEMU_PKG,
# epoch stripped; empty when apt knows of none.
apt_candidate() {
    local v
    v=$(apt-cache "$@" policy "$QEMU_PKG" 2>/dev/null | awk '$1 == "Candidate:" { print $2; exit }') || v=""
    [[ $v == "(none)" ]] && v=""
    printf '%s' "${v#*:}"
}

major_of() {
    if [[ $1 =~ ^([0-9]+) ]]; then printf '%s' "${BASH_REMATCH[1]}"; else printf '0'; fi
}

apt_lists_fresh=0
apt_update_once() {
    ((apt_lists_fresh)) && return 0
    say "apt-get update"
    DEBIAN_FRONTEND=noninteractive apt-get update -q
    apt_lists_fresh=1
}

backports_suite="${os_codename}-backports"
backports_file="$APT_SOURCES_DIR/${os_codename}-backports.sources"

# Writes the backports source if no enabled source has that suite yet.
# Returns 1 if it could be neither found nor derived.
enable_backports() {
    [[ -n $os_codename ]] || return 1
    [[ -n $(find_source "$backports_suite") ]] && return 0
    local stanza
    stanza=$(find_source "$os_codename" "$backports_suite")
    [[ -n $stanza ]] || return 1
    say "writing $backports_file (derived from the existing $os_codename source)"
    local tmp
    tmp=$(mktemp "$APT_SOURCES_DIR/.setup-backports.XXXXXX")
    {
        printf '# Written by scripts/setup.sh: %s >= %s.0 for MTE emulation.\n' "$QEMU_PKG" "$QEMU_MIN_MAJOR"
        printf '%s\n' "$stanza"
    } >"$tmp"
    chmod 0644 "$tmp"
    mv -f "$tmp" "$backports_file"
    apt_lists_fresh=0
}

# ---------------------------------------------------------------------------
# Installing (root, Debian/Ubuntu) and printing commands (everyone else)

install_rust_targets() {
    ((rustup_ok)) && ((${#missing_targets[@]})) || return 0
    say "rustup target add ${missing_targets[*]}"
    "${rustup_cmd[@]}" target add "${missing_targets[@]}" || warn "rustup target add failed"
}

install_apt() {
    local qemu_route=""
    if ((!qemu_ok)); then
        local cand
        cand=$(apt_candidate)
        if [[ -z $cand ]]; then
            apt_update_once
            cand=$(apt_candidate)
        fi
        if [[ -n $cand ]] && (($(major_of "$cand") >= QEMU_MIN_MAJOR)); then
            qemu_route=default
        elif [[ $os_family == debian ]]; then
            if enable_backports; then
                qemu_route=backports
            else
                warn "cannot derive a $backports_suite source: no enabled apt source has suite '$os_codename'"
            fi
        else
            warn "$os_id's $QEMU_PKG is ${cand:-unavailable} (need >= $QEMU_MIN_MAJOR.0): use a newer release (e.g. Ubuntu 24.04) or build QEMU >= $QEMU_MIN_MAJOR.0 and put qemu-system-aarch64 on PATH"
        fi
    fi
    if ((!cross_ok)); then
        apt_update_once
        say "${APT_INSTALL[*]} ${CROSS_PKGS[*]}"
        DEBIAN_FRONTEND=noninteractive "${APT_INSTALL[@]}" "${CROSS_PKGS[@]}"
    fi
    case $qemu_route in
        default)
            apt_update_once
            say "${APT_INSTALL[*]} $QEMU_PKG $QEMU_ROM_PKG"
            DEBIAN_FRONTEND=noninteractive "${APT_INSTALL[@]}" "$QEMU_PKG" "$QEMU_ROM_PKG"
            ;;
        backports)
            apt_update_once
            local bcand
            bcand=$(apt_candidate -t "$backports_suite")
            if [[ -n $bcand ]] && (($(major_of "$bcand") >= QEMU_MIN_MAJOR)); then
                say "${APT_INSTALL[*]} -t $backports_suite $QEMU_PKG $QEMU_ROM_PKG"
                DEBIAN_FRONTEND=noninteractive "${APT_INSTALL[@]}" -t "$backports_suite" "$QEMU_PKG" "$QEMU_ROM_PKG"
            else
                warn "$backports_suite offers $QEMU_PKG ${bcand:-(none)}, need >= $QEMU_MIN_MAJOR.0"
            fi
            ;;
        *)
            if ((qemu_ok && !qemu_rom_ok)); then
                apt_update_once
                say "${APT_INSTALL[*]} $QEMU_ROM_PKG"
                DEBIAN_FRONTEND=noninteractive "${APT_INSTALL[@]}" "$QEMU_ROM_PKG"
            fi
            ;;
    esac
}

report_missing() {
    if ((${#rustup_cmd[@]} == 0)); then
        warn "missing: rustup (install Rust with rustup, then re-run this script)"
    elif ((!rustup_ok)); then
        warn "missing: a working rustup toolchain (\`rustup target list --installed\` failed)"
    fi
    local t p
    for t in "${missing_targets[@]}"; do warn "missing: rust target $t"; done
    if ((!qemu_ok)); then
        if [[ -n $qemu_version ]]; then
            warn "missing: qemu-system-aarch64 >= $QEMU_MIN_MAJOR.0 (found $qemu_version)"
        else
            warn "missing: qemu-system-aarch64 >= $QEMU_MIN_MAJOR.0"
        fi
    fi
    ((qemu_rom_ok)) || warn "missing: $QEMU_ROM (package $QEMU_ROM_PKG; without it \`-machine virt\` needs \`-nic none\`)"
    for p in "${cross_problems[@]}"; do warn "missing: $p"; done
}

print_commands() {
    local cmds=()
    ((rustup_ok)) && ((${#missing_targets[@]})) &&
        cmds+=("rustup target add ${missing_targets[*]}")
    local env_prefix="${sudo_prefix}env DEBIAN_FRONTEND=noninteractive "
    if [[ $os_family == debian || $os_family == ubuntu ]]; then
        local apt_cmds=()
        ((cross_ok)) || apt_cmds+=("${env_prefix}${APT_INSTALL[*]} ${CROSS_PKGS[*]}")
        if ((!qemu_ok)); then
            local cand
            cand=$(apt_candidate)
            if [[ -n $cand ]] && (($(major_of "$cand") >= QEMU_MIN_MAJOR)); then
                apt_cmds+=("${env_prefix}${APT_INSTALL[*]} $QEMU_PKG $QEMU_ROM_PKG")
            elif [[ $os_family == debian && -n $os_codename ]]; then
                if [[ -z $(find_source "$backports_suite") ]]; then
                    local stanza
                    stanza=$(find_source "$os_codename" "$backports_suite")
                    if [[ -n $stanza ]]; then
                        cmds+=("${sudo_prefix}tee $backports_file >/dev/null <<'EOF'"$'\n'"$stanza"$'\n'"EOF")
                    else
                        warn "add the suite $backports_suite (same mirror as $os_codename) to your apt sources"
                    fi
                fi
                apt_cmds+=("${env_prefix}${APT_INSTALL[*]} -t $backports_suite $QEMU_PKG $QEMU_ROM_PKG")
            else
                warn "$os_id's $QEMU_PKG is ${cand:-unavailable} (need >= $QEMU_MIN_MAJOR.0): use a newer release (e.g. Ubuntu 24.04) or build QEMU >= $QEMU_MIN_MAJOR.0 and put qemu-system-aarch64 on PATH"
            fi
        elif ((!qemu_rom_ok)); then
            apt_cmds+=("${env_prefix}${APT_INSTALL[*]} $QEMU_ROM_PKG")
        fi
        if ((${#apt_cmds[@]})); then
            cmds+=("${sudo_prefix}apt-get update" "${apt_cmds[@]}")
        fi
    else
        ((qemu_ok)) || warn "install qemu-system-aarch64 >= $QEMU_MIN_MAJOR.0 with your distribution's package manager"
        ((cross_ok)) || warn "install an aarch64-linux-gnu cross gcc, binutils and static glibc (libc.a) with your distribution's package manager"
    fi
    if ((${#cmds[@]})); then
        warn "run these commands:"
        printf '%s\n' "${cmds[@]}" >&2
        if [[ $os_family != other ]] && ((!is_root)); then
            warn "(or run \`sudo bash scripts/setup.sh\`, which does the same)"
        fi
    fi
}

# ---------------------------------------------------------------------------
run_checks
if all_ok; then
    ok_line
    exit 0
fi

if ((!check_only)); then
    install_rust_targets
    if ((is_root)) && [[ $os_family != other ]] && ! { ((qemu_ok)) && ((qemu_rom_ok)) && ((cross_ok)); }; then
        install_apt
    fi
    run_checks
    if all_ok; then
        ok_line
        exit 0
    fi
fi

report_missing
print_commands
exit 1
