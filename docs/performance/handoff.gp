# SPDX-License-Identifier: GPL-2.0-or-later
# Latency distributions of tests/bench: lock hand-off between two nodes
# against the raw CPG round trip and one-way delivery, without and with
# 2% loss.
#   gnuplot -e "dir='_build/bench'" docs/performance/handoff.gp
# reads dir/{handoff,pingpong,cpgrtt,cpgoneway}{,-loss}.us (one sample in
# µs per line) and writes dir/handoff.png: the empirical CDFs, log-scaled
# latency axis.
if (!exists("dir")) dir = "."
set terminal pngcairo size 900,540 font ",10"
set output dir."/handoff.png"
set title "Lock hand-off (unlock on node A -> grant on node B) vs CPG"
set xlabel "latency (µs, log scale)"
set ylabel "fraction of samples at or below"
set logscale x
set grid
set key bottom right
set yrange [0:1]
plot dir."/cpgrtt.us"       using 1:(1.0) smooth cnormal lw 2 lc 1 title "CPG round trip (own delivery)", \
     dir."/cpgoneway.us"    using 1:(1.0) smooth cnormal lw 2 lc 2 title "CPG one way (delivery on node 2)", \
     dir."/handoff.us"      using 1:(1.0) smooth cnormal lw 2 lc 3 title "hand-off to a waiting node", \
     dir."/pingpong.us"     using 1:(1.0) smooth cnormal lw 2 lc 4 title "back-to-back ping-pong", \
     dir."/cpgrtt-loss.us"  using 1:(1.0) smooth cnormal lw 2 lc 1 dt 2 title "CPG round trip, 2% loss", \
     dir."/handoff-loss.us" using 1:(1.0) smooth cnormal lw 2 lc 3 dt 2 title "hand-off to a waiting node, 2% loss"
