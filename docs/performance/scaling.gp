# SPDX-License-Identifier: GPL-2.0-or-later
# Aggregate lock+unlock rate of tests/bench against the number of active
# nodes in a 5-node cluster (one client per node).
#   gnuplot -e "dir='_build/bench'" docs/performance/scaling.gp
# reads dir/scaling.dat ("nodes affine_ops_s shared_ops_s") and writes
# dir/scaling.png.
if (!exists("dir")) dir = "."
set terminal pngcairo size 900,540 font ",10"
set output dir."/scaling.png"
set title "Aggregate EX lock+unlock per second, 5-node cluster on 2 cores"
set xlabel "active nodes (one client each)"
set ylabel "operations per second (log scale)"
set logscale y
set xtics (1, 2, 3, 5)
set xrange [0.5:5.5]
set grid
set key top right
plot dir."/scaling.dat" using 1:2 with linespoints lw 2 pt 7 title "node-affine resources (cached)", \
     dir."/scaling.dat" using 1:3 with linespoints lw 2 pt 5 title "one shared resource (hand-off each time)"
