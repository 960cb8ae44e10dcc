# Latency distributions of tests/bench: lock hand-off between two nodes
# against the raw CPG round trip, without and with 2% loss.
#   gnuplot -e "dir='_build/bench'" docs/performance/handoff.gp
# reads dir/{handoff,cpgrtt}{,-loss}.us (one sample in µs per line, sorted)
# and writes dir/handoff.png: the empirical CDF, log-scaled latency axis.
if (!exists("dir")) dir = "."
set terminal pngcairo size 900,540 font ",10"
set output dir."/handoff.png"
set title "Lock hand-off (unlock on node A -> grant on node B) vs CPG round trip"
set xlabel "latency (µs, log scale)"
set ylabel "fraction of samples at or below"
set logscale x
set grid
set key bottom right
set yrange [0:1]
plot dir."/cpgrtt.us"       using 1:(1.0) smooth cnormal lw 2 title "CPG round trip", \
     dir."/handoff.us"      using 1:(1.0) smooth cnormal lw 2 title "lock hand-off", \
     dir."/cpgrtt-loss.us"  using 1:(1.0) smooth cnormal lw 2 dt 2 title "CPG round trip, 2% loss", \
     dir."/handoff-loss.us" using 1:(1.0) smooth cnormal lw 2 dt 2 title "lock hand-off, 2% loss"
