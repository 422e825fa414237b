# Test doubles of OpenWrt's shell API for packaging/openwrt's scripts, run under
# `busybox ash` (sourced before the script under test, not run):
#
#   config_load NAME                 sources $UCI_DIR/NAME, a UCI file (its config / option /
#                                    list lines are shell commands defined here)
#   config_get VAR SECTION OPTION [DEFAULT]     a list comes out space-separated
#   config_get_bool VAR SECTION OPTION [DEFAULT]
#   config_list_foreach SECTION OPTION FUNC [ARGS...]
#   procd_open_instance / procd_set_param / procd_append_param / procd_close_instance /
#   procd_add_reload_trigger         each appends what it was asked to $PROCD_LOG, one line:
#                                    the function's short name, then its arguments joined by |
#
# Values are kept in CONFIG_<section>_<option> (lists: _N and _ITEM<i>), as OpenWrt does.
# shellcheck shell=dash disable=SC2034,SC2154

UCI_SECTION=""

config() {
	UCI_SECTION=$2
	eval "CONFIG_${2}_TYPE=\$1"
}

option() {
	eval "CONFIG_${UCI_SECTION}_$1=\$2"
}

list() {
	eval "n=\${CONFIG_${UCI_SECTION}_$1_N:-0}"
	n=$((n + 1))
	eval "CONFIG_${UCI_SECTION}_$1_N=\$n"
	eval "CONFIG_${UCI_SECTION}_$1_ITEM$n=\$2"
	eval "CONFIG_${UCI_SECTION}_$1=\"\${CONFIG_${UCI_SECTION}_$1:+\${CONFIG_${UCI_SECTION}_$1} }\$2\""
}

config_load() {
	[ -f "$UCI_DIR/$1" ] || return 1
	# shellcheck disable=SC1090
	. "$UCI_DIR/$1"
}

config_get() {
	eval "if [ -n \"\${CONFIG_${2}_${3}+x}\" ]; then $1=\$CONFIG_${2}_${3}; else $1=\${4-}; fi"
}

config_get_bool() {
	config_get cgb_v "$2" "$3" "${4:-0}"
	case "$cgb_v" in
	1 | on | true | yes | enabled) eval "$1=1" ;;
	0 | off | false | no | disabled) eval "$1=0" ;;
	*) eval "$1=\${4:-0}" ;;
	esac
}

config_list_foreach() {
	clf_s=$1
	clf_o=$2
	clf_f=$3
	shift 3
	eval "clf_n=\${CONFIG_${clf_s}_${clf_o}_N:-0}"
	clf_i=1
	while [ "$clf_i" -le "$clf_n" ]; do
		eval "clf_v=\$CONFIG_${clf_s}_${clf_o}_ITEM$clf_i"
		"$clf_f" "$clf_v" "$@"
		clf_i=$((clf_i + 1))
	done
}

procd_record() {
	rec=$1
	shift
	for a in "$@"; do rec="$rec|$a"; done
	echo "$rec" >>"$PROCD_LOG"
}

procd_open_instance() { procd_record open_instance "$@"; }
procd_set_param() { procd_record set_param "$@"; }
procd_append_param() { procd_record append_param "$@"; }
procd_close_instance() { procd_record close_instance "$@"; }
procd_add_reload_trigger() { procd_record reload_trigger "$@"; }
