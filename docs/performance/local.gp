# SPDX-License-Identifier: GPL-2.0-or-later
# Latency distributions of tests/bench on one node: the cached lock, UID
# allocation, the disk's O_DSYNC write, Dovecot's dotlock + uidlist
# rewrite, and whole deliveries (sdlm-deliver, dovecot-lda).
#   gnuplot -e "dir='_build/bench'" docs/performance/local.gp
# reads dir/{cached,uid1,uid1000,odirect,dotlock,deliver-sdlm,deliver-lda}.us
# (one sample in µs per line) and writes dir/local.png: the empirical
# CDFs, log-scaled latency axis.
if (!exists("dir")) dir = "."
set terminal pngcairo size 900,540 font ",10"
set output dir."/local.png"
set termoption noenhanced
set title "One node: per-operation latency"
set xlabel "latency (µs, log scale)"
set ylabel "fraction of samples at or below"
set logscale x
set grid
set key bottom right
set yrange [0:1]
plot dir."/cached.us"       using 1:(1.0) smooth cnormal lw 2 title "cached EX lock+unlock", \
     dir."/uid1.us"         using 1:(1.0) smooth cnormal lw 2 title "UID alloc+commit, 1 mailbox", \
     dir."/uid1000.us"      using 1:(1.0) smooth cnormal lw 2 title "UID alloc+commit, 1000 mailboxes", \
     dir."/odirect.us"      using 1:(1.0) smooth cnormal lw 2 title "512 B O_DIRECT+O_DSYNC write", \
     dir."/dotlock.us"      using 1:(1.0) smooth cnormal lw 2 title "Dovecot dotlock + uidlist rewrite", \
     dir."/deliver-sdlm.us" using 1:(1.0) smooth cnormal lw 2 title "whole delivery, sdlm-deliver", \
     dir."/deliver-lda.us"  using 1:(1.0) smooth cnormal lw 2 title "whole delivery, dovecot-lda"
