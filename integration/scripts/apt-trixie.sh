# shellcheck shell=bash
# Shared by the rig scripts (sourced, not run): a private apt configuration
# that reaches Debian trixie through the archive this machine's apt already
# uses. Its URI is read from /etc/apt at run time, so no host name is written
# into the repository; only the suite differs. The caller defines die() and
# sets APT to the directory that holds the private configuration and state.
#
#   trixie_apt_setup [COMP...]  write $APT/sources.list (suite trixie, main or COMPs)
#   apt-get $(apt_opts) ...     apt-get/apt-cache with that configuration

APT_SUITE=trixie
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg

# The first Debian archive URI in the apt configuration (deb822 or one-line).
archive_uri() {
    local uri
    uri=$( { cat /etc/apt/sources.list.d/*.sources 2>/dev/null || true; } \
        | awk '/^URIs:/ { for (i = 2; i <= NF; i++) print $i }' \
        | grep -v -- '-security' | grep '/debian/\?$' | head -n 1 || true)
    if [ -z "$uri" ]; then
        uri=$( { cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null || true; } \
            | awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { print $i; break } }' \
            | grep -v -- '-security' | grep '/debian/\?$' | head -n 1 || true)
    fi
    [ -n "$uri" ] || die "no Debian archive URI found in /etc/apt"
    echo "$uri"
}

apt_opts() {
    echo "-o Dir::Etc::SourceList=$APT/sources.list -o Dir::Etc::SourceParts=/dev/null" \
         "-o Dir::State::Lists=$APT/lists -o Dir::Cache=$APT/cache -o Debug::NoLocking=1" \
         "-o APT::Sandbox::User=root"
}

# The private state directories and a sources.list for trixie's components
# (main unless given, e.g. `trixie_apt_setup non-free-firmware`).
trixie_apt_setup() {
    mkdir -p "$APT/lists/partial" "$APT/cache/archives/partial"
    echo "deb [signed-by=$KEYRING] $(archive_uri) $APT_SUITE ${*:-main}" > "$APT/sources.list"
}
