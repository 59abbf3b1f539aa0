#!/bin/sh
# /init for a stock-Linux guest: report CPUs and memory, then power off.
/bin/busybox mount -t proc proc /proc
echo "init: cpus $(grep -c ^processor /proc/cpuinfo)"
echo "init: $(grep MemTotal /proc/meminfo)"
/bin/busybox poweroff -f
