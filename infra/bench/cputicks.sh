# Sourced by the benchmark scripts that read CPU time from /proc.

# cpu_ticks prints the summed user and system clock ticks of the given
# processes. A process that is gone counts 0.
cpu_ticks() {
  local total=0 pid
  for pid in "$@"; do
    if [ -r "/proc/$pid/stat" ]; then
      total=$((total + $(awk '{print $14 + $15}' "/proc/$pid/stat")))
    fi
  done
  echo "$total"
}
