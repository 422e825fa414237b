#!/bin/sh
# Run one command inside a qemu VM booting Debian's linux-image-amd64, for the kernel paths
# this machine's own kernel cannot show (modules it lacks, nf_flow_table, wireguard.ko).
#
#   tests/vm/boot.sh [--cpus N] [--mem MiB] [--kernel VMLINUZ] COMMAND [ARG...]
#
# The guest's root file system is this host's root, shared read-only over 9p under a tmpfs
# overlay, so the guest runs the very binaries, libraries and module tree installed here,
# sees every file (a checkout in /tmp too) and may write anywhere, while the host stays
# untouched; /run and /etc/netns start empty. A small busybox
# initramfs loads the virtio and 9p modules, switches to the shared root and runs COMMAND
# from the current directory; modprobe works as on an installed system. COMMAND's output
# arrives on this terminal over the serial console and its exit status becomes ours.
# Software emulation by default (about 8 s to boot); NYM_VM_KVM=1 uses /dev/kvm instead,
# where nested KVM works (on this project's build host it hangs in the firmware).
set -eu
CPUS=2
MEM=1024
KERNEL=""
while [ $# -gt 0 ]; do
	case "$1" in
	--cpus) CPUS=$2; shift 2 ;;
	--mem) MEM=$2; shift 2 ;;
	--kernel) KERNEL=$2; shift 2 ;;
	--) shift; break ;;
	-*) echo "boot.sh: unknown option $1" >&2; exit 2 ;;
	*) break ;;
	esac
done
[ $# -gt 0 ] || { echo "usage: tests/vm/boot.sh [--cpus N] [--mem MiB] [--kernel VMLINUZ] COMMAND [ARG...]" >&2; exit 2; }

if [ -z "$KERNEL" ]; then
	KERNEL=$(ls /boot/vmlinuz-*-amd64 2>/dev/null | sort -V | tail -n 1)
fi
[ -n "$KERNEL" ] && [ -r "$KERNEL" ] || { echo "boot.sh: no Debian kernel in /boot (scripts/deps.sh installs linux-image-amd64)" >&2; exit 2; }
KVER=${KERNEL##*/vmlinuz-}
MODDIR=/lib/modules/$KVER
[ -r "$MODDIR/modules.dep" ] || { echo "boot.sh: $MODDIR/modules.dep missing" >&2; exit 2; }
BUSYBOX=$(command -v busybox) || { echo "boot.sh: busybox-static missing" >&2; exit 2; }
command -v qemu-system-x86_64 >/dev/null || { echo "boot.sh: qemu-system-x86_64 missing" >&2; exit 2; }

JOB=$(mktemp -d /tmp/nym-vm.XXXXXX)
trap '[ -n "${NYM_VM_KEEP:-}" ] || rm -rf "$JOB"' EXIT INT TERM
mkdir -p "$JOB/initrd/bin" "$JOB/initrd/modules" "$JOB/initrd/newroot" "$JOB/initrd/job" \
	"$JOB/initrd/proc" "$JOB/initrd/sys" "$JOB/initrd/dev" "$JOB/share"
cp "$BUSYBOX" "$JOB/initrd/bin/busybox"

# The modules the initramfs needs before the shared root is reachable, each after the
# modules it depends on (modules.dep lists a module's whole closure, nearest first).
order=""
for want in virtio_pci 9pnet_virtio 9p overlay; do
	line=$(grep -E "/$want\.ko(\.xz|\.zst)?:" "$MODDIR/modules.dep") ||
		{ echo "boot.sh: module $want not in $MODDIR" >&2; exit 2; }
	deps=$(echo "${line#*:}" | tr ' ' '\n' | grep . | tac | tr '\n' ' ')
	for m in $deps ${line%%:*}; do
		case " $order " in *" $m "*) ;; *) order="$order $m" ;; esac
	done
done
n=0
for m in $order; do
	n=$((n + 1))
	f="$JOB/initrd/modules/$(printf '%02d' $n)-${m##*/}"
	case "$m" in
	*.xz) xz -dc "$MODDIR/$m" >"${f%.xz}" ;;
	*.zst) zstd -qdc "$MODDIR/$m" >"${f%.zst}" ;;
	*) cp "$MODDIR/$m" "$f" ;;
	esac
done

# The command and the directory it runs in travel in the job share, not on the kernel
# command line, so that any quoting survives.
{
	printf 'cd %s || exit 125\n' "$(printf '%s' "$PWD" | sed "s/'/'\\\\''/g; s/^/'/; s/\$/'/")"
	printf 'exec'
	for a in "$@"; do
		printf " '%s'" "$(printf '%s' "$a" | sed "s/'/'\\\\''/g")"
	done
	printf '\n'
} >"$JOB/share/command"

cat >"$JOB/initrd/init" <<'EOF'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
for m in /modules/*.ko; do insmod "$m" || echo "vm: insmod $m failed"; done
mkdir -p /lower /rw
mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=524288,cache=loose hostroot /lower &&
	mount -t tmpfs tmpfs /rw && mkdir /rw/upper /rw/work &&
	mount -t overlay -o lowerdir=/lower,upperdir=/rw/upper,workdir=/rw/work overlay /newroot ||
	{ echo "vm: cannot mount the host root"; poweroff -f; }
mount -t tmpfs tmpfs /newroot/run
# /etc/netns too starts empty: the host's (other sandboxes' resolver files) comes and goes
# under the 9p cache, and a directory removed there cannot be copied up here.
mkdir -p /newroot/etc/netns && mount -t tmpfs -o mode=755 tmpfs /newroot/etc/netns
mkdir -p /newroot/run/job
cp /bin/busybox /newroot/run/busybox
mount -t 9p -o trans=virtio,version=9p2000.L,msize=524288 job /newroot/run/job
umount /proc /sys
mount --move /dev /newroot/dev
exec switch_root /newroot /bin/sh -c '
	mount -t proc proc /proc
	mount -t sysfs sysfs /sys
	mount -t devpts devpts /dev/pts 2>/dev/null
	export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root TMPDIR=/tmp
	ip link set lo up
	echo nym-vm-start
	sh /run/job/command </dev/null
	echo "nym-vm-exit=$?"
	sync
	/run/busybox poweroff -f'
EOF
chmod +x "$JOB/initrd/init"
(cd "$JOB/initrd" && find . | cpio -o -H newc --quiet | gzip -1) >"$JOB/initrd.gz"

ACCEL=tcg
if [ "${NYM_VM_KVM:-0}" = 1 ] && [ -w /dev/kvm ]; then ACCEL=kvm; fi
# quiet keeps the kernel's boot messages off the output; loglevel 3 still shows errors.
qemu-system-x86_64 -machine q35,accel=$ACCEL -cpu max -smp "$CPUS" -m "$MEM" \
	-nographic -nodefaults -no-reboot -serial stdio -display none \
	-kernel "$KERNEL" -initrd "$JOB/initrd.gz" \
	-append "console=ttyS0 quiet loglevel=3 panic=-1 rdinit=/init" \
	-virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap \
	-virtfs local,path="$JOB/share",mount_tag=job,security_model=none \
	</dev/null | tr -d '\r' | tee "$JOB/console" | sed -n '/nym-vm-start$/,$ { /nym-vm-start$/d; /^nym-vm-exit=/d; /reboot: Power down/d; p }'
status=$(sed -n 's/^nym-vm-exit=\([0-9]*\)$/\1/p' "$JOB/console" | tail -n 1)
[ -n "$status" ] || { echo "boot.sh: the VM ended without reporting the command's status" >&2; exit 125; }
exit "$status"
